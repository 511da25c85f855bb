/**
 * Gatehouse API gateway data plane.
 *
 * Wiring (see src/gateway/README.md):
 *   const metrics = createGatewayMetrics(registry);
 *   const gw = createGateway({ store, options, metrics, logger });
 *   await app.register(async (ctx) => { await ctx.register(gw.plugin); });   // 8243 and 8280
 *   revoke → gw.invalidate({ tokenHashes, grantIds });
 *   jwks   → await buildJwks(options.jwt)
 *   close  → await gw.close();
 */
import type { FastifyInstance } from 'fastify';
import { createGateway, type Gateway, type GatewayDeps } from './gateway.js';

export type * from './types.js';
export { createGateway, DEFAULT_TIERS, type Gateway, type GatewayDeps } from './gateway.js';
export { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
export { TokenValidationCache, hashToken, type TokenEntry, type TokenCacheOptions } from './token-cache.js';
export { buildJwks, WSO2_CLAIMS } from './jwt.js';
export { SLIDING_WINDOW_LUA, slidingWindowCheck, type Limit } from './throttle.js';
export { extractBearer } from './headers.js';

/**
 * Convenience form: creates a gateway for this app, registers it, and closes it when
 * the app closes. Returns the gateway handle when called directly
 * (`const gw = await gatewayPlugin(app, deps)`); with `app.register(gatewayPlugin, deps)`
 * the handle is not reachable, so prefer `createGateway` when you need
 * `invalidate()` or one gateway shared by two listeners.
 */
export async function gatewayPlugin(app: FastifyInstance, deps: GatewayDeps): Promise<Gateway> {
  const gw = createGateway(deps);
  app.addHook('onClose', async () => { await gw.close(); });
  await gw.plugin(app);
  return gw;
}

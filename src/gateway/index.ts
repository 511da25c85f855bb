/**
 * Gatehouse API gateway data plane: see src/gateway/README.md. It depends only on its own
 * types (types.ts): the node gives it a store adapter, the token format's lookup key, options
 * and a metrics registry.
 */
export type * from './types.js';
export { createGateway, type Gateway, type GatewayDeps } from './gateway.js';
export { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
export { TokenValidationCache, type TokenEntry, type TokenCacheOptions } from './token-cache.js';
export { WSO2_CLAIMS } from './jwt.js';
export { BUCKETS, WINDOW_LUA, windowCheck, type Limit } from './throttle.js';
export { extractBearer } from './headers.js';

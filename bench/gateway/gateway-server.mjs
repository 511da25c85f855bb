// The gateway as the lead will run it: fastify + the gateway plugin in its own context,
// an in-memory store (the real one is DB-backed, but a warm cache never calls it).
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { createGateway, createGatewayMetrics } from '../../dist/gateway/index.js';
import { sha256 } from '../../dist/crypto/hash.js';

const TOKEN = process.env.BENCH_TOKEN;
const now = () => Math.floor(Date.now() / 1000);
const api = { id: 'api-bench', name: 'Bench', context: '/bench', version: 'v1', productionUrl: process.env.BACKEND_URL, tiers: ['Bench'], sendJwt: false };
const info = {
  tokenKey: sha256(TOKEN ?? ''), grantId: 'grant-bench', consumerKey: 'ck', applicationId: 'app-bench', applicationName: 'Bench App', applicationTier: 'Unlimited',
  subscriber: 'alice', keyType: 'PRODUCTION', scope: ['default'], expiresAt: now() + 86_400,
};
const store = {
  async findPublishedApi(context, version) { return context === api.context && version === api.version ? api : undefined; },
  async lookupAccessToken(key) { return key === info.tokenKey ? info : undefined; },
  async findSubscription(applicationId, apiId) {
    return applicationId === info.applicationId && apiId === api.id ? { applicationId, apiId, tier: 'Bench', status: 'ACTIVE' } : undefined;
  },
};

const registry = new Registry();
const gw = createGateway({
  store,
  tokenKey: sha256,
  metrics: createGatewayMetrics(registry),
  options: {
    // a finite tier far above the bench rate, so the throttling check runs on every request
    tiers: { Unlimited: 'unlimited', Bench: { requests: 1_000_000_000, perSeconds: 60 } },
    tokenCacheTtlSeconds: 300, negativeCacheTtlSeconds: 30, apiCacheTtlSeconds: 300, defaultTimeoutMs: 30_000,
  },
});
if (process.env.GATEWAY_RAW === '1') {
  // diagnostics: the gateway's raw node handler without fastify in front
  const { createServer } = await import('node:http');
  const server = createServer(gw.handle);
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
} else {
  const app = Fastify({ logger: false });
  app.post('/token', async () => ({}));
  await app.register(async (ctx) => { await ctx.register(gw.plugin); });
  await app.listen({ port: 0, host: '127.0.0.1' });
  app.server.keepAliveTimeout = 65_000;
  process.send?.({ port: app.server.address().port });
}
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(0));
process.on('message', (m) => { if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() }); });

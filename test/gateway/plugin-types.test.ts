import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGatewayMetrics, gatewayPlugin } from '../../src/gateway/index.js';
import { MemoryStore } from './support/memory-store.js';
import { TEST_OPTIONS } from './support/servers.js';

describe('gatewayPlugin (convenience form)', () => {
  it('registers with app.register(gatewayPlugin, deps) and closes with the app', async () => {
    const app = Fastify({ logger: false });
    const store = new MemoryStore();
    await app.register(gatewayPlugin, { store, options: TEST_OPTIONS, metrics: createGatewayMetrics(new Registry()) });
    const r = await app.inject({ url: '/nope/v1/x' });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('900906');
    await app.close();
  });

  it('returns the gateway handle when called directly', async () => {
    const app = Fastify({ logger: false });
    const gw = await gatewayPlugin(app, { store: new MemoryStore(), options: TEST_OPTIONS, metrics: createGatewayMetrics(new Registry()) });
    expect(gw.invalidate({ tokenHashes: ['x'] })).toBe(0);
    await app.ready();
    expect((await app.inject({ url: '/a/b/c' })).statusCode).toBe(404);
    await app.close();
  });
});

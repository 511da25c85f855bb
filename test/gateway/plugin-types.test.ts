import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGateway, createGatewayMetrics } from '../../src/gateway/index.js';
import { MemoryStore } from './support/memory-store.js';
import { TEST_OPTIONS, tokenKey } from './support/servers.js';

describe('gw.plugin', () => {
  it('registers in its own context on any fastify instance and answers WSO2 faults', async () => {
    const app = Fastify({ logger: false });
    const gw = createGateway({ store: new MemoryStore(), tokenKey, options: TEST_OPTIONS, metrics: createGatewayMetrics(new Registry()) });
    await app.register(gw.plugin);
    const r = await app.inject({ url: '/nope/v1/x' });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('900906');
    expect(gw.invalidate({ tokenKeys: ['x'] })).toBe(0);
    expect((await app.inject({ url: '/a/b/c' })).statusCode).toBe(404);
    await app.close();
    await gw.close();
  });
});

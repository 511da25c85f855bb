import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { armFastPath, type FastPath } from './gateway-fast-path.js';

function setup() {
  const app = Fastify();
  app.post('/token', async () => 'token');
  app.get('/health/live', async () => 'ok');
  app.all('/*', async () => 'catch-all');
  const handled: string[] = [];
  const fast: FastPath = {};
  armFastPath(fast, app, { handle: (req: IncomingMessage) => void handled.push(`${req.method} ${req.url}`) });
  const take = (method: string, url: string) => fast.take!({ method, url } as IncomingMessage, {} as ServerResponse);
  return { app, take, handled };
}

describe('gateway fast path', () => {
  it('hands a request for none of fastify\'s own routes straight to the gateway, query and all', () => {
    const { take, handled } = setup();
    expect(take('GET', '/weather/v1/today?city=Oslo')).toBe(true);
    expect(take('POST', '/weather/v1/reports')).toBe(true);
    expect(handled).toEqual(['GET /weather/v1/today?city=Oslo', 'POST /weather/v1/reports']);
  });

  it('leaves fastify its own routes (HEAD of a GET route too), percent-encoded paths and methods it does not route', () => {
    const { take, handled } = setup();
    expect(take('POST', '/token')).toBe(false);
    expect(take('POST', '/token?x=1')).toBe(false);
    expect(take('GET', '/health/live')).toBe(false);
    expect(take('HEAD', '/health/live')).toBe(false);
    expect(take('POST', '/tok%65n')).toBe(false);
    expect(take('PROPFIND', '/weather/v1/x')).toBe(false);
    expect(handled).toEqual([]);
    // Another method on a token-service path is not a route of fastify's: the catch-all (the gateway) had it before too.
    expect(take('GET', '/token')).toBe(true);
  });

  it('leaves everything to fastify once the listener is closing (its 503s)', async () => {
    const { app, take } = setup();
    await app.ready();
    await app.close();
    expect(take('GET', '/weather/v1/today')).toBe(false);
  });
});

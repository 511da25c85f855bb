import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { armFastPath, routeEveryMethod, type FastPath } from './gateway-fast-path.js';

function setup() {
  const app = Fastify();
  app.post('/token', async () => 'token');
  app.get('/health/live', async () => 'ok');
  app.all('/*', async () => 'catch-all');
  const handled: string[] = [];
  const fast: FastPath = {};
  armFastPath(fast, app, { handle: (req: IncomingMessage) => void handled.push(`${req.method} ${req.url}`) });
  const take = (method: string, url: string) => fast.take!({ method, url, headers: { host: 'gw' }, httpVersionMajor: 1, httpVersionMinor: 1 } as unknown as IncomingMessage, {} as ServerResponse);
  return { app, take, handled, fast };
}

describe('gateway fast path', () => {
  it('hands a request for none of fastify\'s own routes straight to the gateway, query and all', () => {
    const { take, handled } = setup();
    expect(take('GET', '/weather/v1/today?city=Oslo')).toBe(true);
    expect(take('POST', '/weather/v1/reports')).toBe(true);
    expect(handled).toEqual(['GET /weather/v1/today?city=Oslo', 'POST /weather/v1/reports']);
  });

  it('leaves fastify its own routes (HEAD of a GET route too) and percent-encoded paths', () => {
    const { take, handled } = setup();
    expect(take('POST', '/token')).toBe(false);
    expect(take('POST', '/token?x=1')).toBe(false);
    expect(take('GET', '/health/live')).toBe(false);
    expect(take('HEAD', '/health/live')).toBe(false);
    expect(take('POST', '/tok%65n')).toBe(false);
    expect(take('PROPFIND', '/tok%65n')).toBe(false);
    expect(handled).toEqual([]);
    // Another method on a token-service path is not a route of fastify's: the catch-all (the gateway) had it before too.
    expect(take('GET', '/token')).toBe(true);
  });

  it('answers an HTTP/1.1 request without Host itself, 400 in the format of its path: RFC 6749 JSON on a token-service route, the fault elsewhere', () => {
    const { fast, handled } = setup();
    const answered: { status: number; body: string }[] = [];
    const res = () => {
      const r = { status: 0, headersSent: false, destroyed: false, writeHead: (status: number) => ((r.status = status), r), end: (body: string | Buffer) => answered.push({ status: r.status, body: String(body) }) };
      return r as unknown as ServerResponse;
    };
    const bare = (method: string, url: string, minor: number) => ({ method, url, headers: {}, httpVersionMajor: 1, httpVersionMinor: minor, complete: true }) as unknown as IncomingMessage;
    expect(fast.take!(bare('POST', '/token', 1), res())).toBe(true);
    expect(fast.take!(bare('GET', '/weather/v1/x', 1), res())).toBe(true);
    expect(answered.map((a) => [a.status, JSON.parse(a.body)])).toEqual([
      [400, { error: 'invalid_request', error_description: 'The request has no Host header: HTTP/1.1 requires one (RFC 9112 §3.2).' }],
      [400, { code: '900400', message: 'Bad Request', description: 'The request has no Host header: HTTP/1.1 requires one (RFC 9112 §3.2).' }],
    ]);
    // HTTP/1.0 needs no Host: routed as ever
    expect(fast.take!(bare('GET', '/weather/v1/x', 0), res())).toBe(true);
    expect(fast.take!(bare('POST', '/token', 0), res())).toBe(false);
    expect(handled).toEqual(['GET /weather/v1/x']);
    expect(fast.isApiTarget!('POST', '/token')).toBe(false);
    expect(fast.isApiTarget!('FOO', '/weather/v1/x')).toBe(true);
    expect(fast.isApiTarget!('FOO', '/token')).toBe(false);
  });

  it('hands any method on a path of none of fastify\'s routes to the gateway (which refuses those it does not proxy)', () => {
    const { take, handled } = setup();
    for (const m of ['PROPFIND', 'M-SEARCH', 'QUERY', 'TRACE']) expect(take(m, '/weather/v1/x'), m).toBe(true);
    expect(handled).toEqual(['PROPFIND /weather/v1/x', 'M-SEARCH /weather/v1/x', 'QUERY /weather/v1/x', 'TRACE /weather/v1/x']);
  });

  it('routeEveryMethod: an app routes every method Node parses but CONNECT, QUERY without reading a body', async () => {
    const app = Fastify();
    routeEveryMethod(app);
    app.route({ method: app.supportedMethods.filter((m) => m !== 'POST'), url: '/token', handler: async (_req, reply) => reply.code(405).send('not here') });
    app.all('/*', async (req) => `catch-all ${req.method}`);
    for (const m of http.METHODS.filter((x) => x !== 'CONNECT')) expect(app.supportedMethods, m).toContain(m);
    for (const method of ['PROPFIND', 'MKCOL', 'PURGE', 'SEARCH', 'LOCK', 'M-SEARCH', 'QUERY']) {
      expect((await app.inject({ method: method as 'GET', url: '/orders/v1/x' })).body, method).toBe(`catch-all ${method}`);
      expect((await app.inject({ method: method as 'GET', url: '/token' })).statusCode, method).toBe(405);
    }
    await app.close();
  });

  it('leaves everything to fastify once the listener is closing (its 503s)', async () => {
    const { app, take } = setup();
    await app.ready();
    await app.close();
    expect(take('GET', '/weather/v1/today')).toBe(false);
  });
});

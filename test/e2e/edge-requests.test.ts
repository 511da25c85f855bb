import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../gateway/support/servers.js';
import { gatehouse } from '../support/cli.js';
import { basic, call, postForm } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

/** The edge checks on a whole node: every listener's answer to a bad request target, and gateway.trustedProxies from the configuration. */
describe('edge requests on a real node', () => {
  let s: TestServer;
  let backend: TestBackend;
  let c: TestClient;
  let token: string;

  beforeAll(async () => {
    backend = await startBackend('edge');
    s = await startTestServer('sqlite', { gateway: { trustedProxies: ['127.0.0.2'] } });
    c = await createClient(s, { owner: 'alice', password: 'correct horse', app: 'edge-app' });
    const api = await s.server.store.apis.create({ name: 'Edge', context: '/edge', version: 'v1', productionUrl: `${backend.url}/api`, tiers: ['Gold'], sendJwt: false, status: 'PUBLISHED' });
    await s.server.store.apis.subscribe(c.applicationId, api.id, 'Gold');
    token = (await postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, c.consumerSecret) })).json.access_token;
  });
  afterAll(async () => {
    await s?.close();
    await backend?.close();
  });

  /** A request written byte for byte, from `localAddress`. */
  function raw(target: string, localAddress = '127.0.0.1', extra = ''): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port: s.server.ports.http, host: '127.0.0.1', localAddress });
      let data = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => (data += d));
      sock.on('error', reject);
      sock.on('close', () => {
        const [h = '', b = ''] = data.split('\r\n\r\n');
        resolve({ status: Number(h.split(' ')[1]), body: b ? JSON.parse(b) : undefined });
      });
      sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n${extra}Connection: close\r\n\r\n`, 'latin1');
    });
  }

  it('the attacker: "#", a path that does not percent-decode, ";" dot segments and non-ASCII are all a 400 with a JSON body', async () => {
    for (const target of ['/edge/v1/..#/x', '/edge/v1/a%zz', '/edge/v1/..;/other', '/edge/v1/a|b']) {
      const r = await raw(target);
      expect(r.status, target).toBe(400);
      expect(r.body, target).toMatchObject({ code: '900400', message: 'Bad Request' });
    }
    // refused by Node's HTTP parser before any route: on an API's path the gateway's fault too
    const bytes = await raw('/edge/v1/caf\u00e9');
    expect(bytes.status).toBe(400);
    expect(bytes.body).toMatchObject({ code: '900400', message: 'Bad Request', description: expect.stringMatching(/^Malformed HTTP request/) });
    expect(backend.requests).toHaveLength(0);
  });

  it('the legitimate client is served; a trusted proxy\'s X-Forwarded-For is extended, anyone else\'s replaced', async () => {
    const direct = await call(`${s.http}/edge/v1/x?q=1`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '6.6.6.6' } });
    expect(direct.status).toBe(200);
    expect(direct.json.url).toBe('/api/x?q=1');
    expect(direct.json.headers['x-forwarded-for']).toBe('127.0.0.1');
    const viaProxy = await new Promise<any>((resolve, reject) => {
      const sock = net.connect({ port: s.server.ports.http, host: '127.0.0.1', localAddress: '127.0.0.2' });
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('error', reject);
      sock.on('close', () => resolve(JSON.parse(data.split('\r\n\r\n')[1]!)));
      sock.write(`GET /edge/v1/y HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer ${token}\r\nX-Forwarded-For: 198.51.100.9\r\nConnection: close\r\n\r\n`);
    });
    expect(viaProxy.headers['x-forwarded-for']).toBe('198.51.100.9, 127.0.0.2');
  });

  it('the tester: a method no API resource can have (WebDAV\'s, PURGE, M-SEARCH, QUERY, TRACE) is 405 with Allow in WSO2\'s fault JSON, on both gateway listeners', async () => {
    const before = backend.requests.length;
    const methods = ['PROPFIND', 'MKCOL', 'PURGE', 'SEARCH', 'LOCK', 'M-SEARCH', 'QUERY', 'TRACE'];
    for (const base of [s.http, s.https]) {
      for (const method of methods) {
        for (const path of ['/edge/v1/x', '/edge/v1/a%20b', '/no-such/v1/x']) {
          const r = await call(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
          expect(r.status, `${method} ${path}`).toBe(405);
          expect(r.headers.allow).toBe('GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS');
          expect(r.json, `${method} ${path}`).toEqual({ code: '405', message: 'Runtime Error', description: 'Method not allowed for given API resource' });
        }
      }
    }
    // A QUERY with its body: the same answer, and the unread body closes the connection.
    const q = await call(`${s.http}/edge/v1/x`, { method: 'QUERY', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"q":1}' });
    expect(q.status).toBe(405);
    expect(q.headers.connection).toBe('close');
    expect(backend.requests.length).toBe(before);
  });

  it('the tester: the same methods on the token service\'s URLs are its RFC 6749 405, with the Allow of the URL', async () => {
    for (const method of ['PROPFIND', 'MKCOL', 'M-SEARCH', 'QUERY', 'TRACE']) {
      for (const [path, allow] of [['/token', 'POST'], ['/revoke', 'POST'], ['/introspect', 'POST'], ['/login', 'POST'], ['/.well-known/oauth-authorization-server', 'GET, HEAD']] as const) {
        const r = await call(`${s.http}${path}`, { method, headers: { authorization: basic(c.consumerKey, c.consumerSecret) } });
        expect(r.status, `${method} ${path}`).toBe(405);
        expect(r.headers.allow, `${method} ${path}`).toBe(allow);
        expect(r.json, `${method} ${path}`).toMatchObject({ error: 'invalid_request' });
      }
    }
  });

  it('the legitimate client: the methods the gateway proxies still reach the backend, the token service\'s POST still answers', async () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await call(`${s.http}/edge/v1/m`, { method, headers: { authorization: `Bearer ${token}` } });
      expect(r.status, method).toBe(200);
      expect(backend.requests.at(-1)!.method).toBe(method);
    }
    expect((await postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, c.consumerSecret) })).status).toBe(200);
  });

  it('the operator: an invalid gateway.trustedProxies entry stops the start with one line naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-proxies-'));
    try {
      writeFileSync(join(dir, 'gatehouse.yaml'), 'gateway:\n  trustedProxies: ["10.0.0.0/40"]\nlisteners: { host: 127.0.0.1, portal: 0, https: 0, http: 0 }\n');
      const r = await gatehouse(['start', '--config', join(dir, 'gatehouse.yaml'), '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe('gatehouse: gateway.trustedProxies: "10.0.0.0/40" has an invalid prefix length');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

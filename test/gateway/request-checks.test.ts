import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayApi } from '../../src/gateway/types.js';
import { MemoryStore } from './support/memory-store.js';
import { call, startBackend, startGateway, type TestBackend, type TestGateway } from './support/servers.js';

/**
 * What reaches the routing at all: the request target's characters and dot segments (issue 11
 * item 8), one Host header (item 11), and a well-formed Bearer credential (issue 12 item 9).
 */
let backend: TestBackend;
let store: MemoryStore;
let g: TestGateway;
let api: GatewayApi;
let tok: string;

beforeAll(async () => {
  backend = await startBackend('production');
  store = new MemoryStore();
  api = store.addApi({ name: 'Probe', context: '/probe', version: 'v1', productionUrl: `${backend.url}/api` });
  const t = store.addToken();
  tok = t.token;
  store.subscribe(t.info.applicationId, api.id, 'Unlimited');
  g = await startGateway(store);
});

afterAll(async () => {
  await g?.close();
  await backend?.close();
});

/** One HTTP/1.1 request written byte for byte on a fresh socket; the status and the JSON body. */
function raw(head: string): Promise<{ status: number; headers: string; body: any }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(g.port, '127.0.0.1');
    let data = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('error', reject);
    s.on('close', () => {
      const [h = '', b = ''] = data.split('\r\n\r\n');
      let body: unknown;
      try { body = JSON.parse(b); } catch { body = b; }
      resolve({ status: Number(h.split(' ')[1]), headers: h, body });
    });
    // not end(): a half-closed client aborts its request (Node's HTTP server does not allow half-open)
    s.write(`${head}\r\nConnection: close\r\n\r\n`, 'latin1');
  });
}
const get = (target: string, extra = '') => raw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${g.port}\r\nAuthorization: Bearer ${tok}${extra}`);

describe('request target', () => {
  it('the attacker: "#" and other characters RFC 3986 does not allow are 400 900400 and never reach the backend', async () => {
    const before = backend.requests.length;
    for (const target of ['/probe/v1/..#/x', '/probe/v1/a#frag', '/probe/v1/a"b', '/probe/v1/<x>', '/probe/v1/a{b}', '/probe/v1/a|b', '/probe/v1/a^b', '/probe/v1/a`b', '/probe/v1/a\\b', '/probe/v1/x?q=%zz', '/probe/v1/x?q=%4', '/probe/v1/x?q=[1]']) {
      const r = await get(target);
      expect(r.status, target).toBe(400);
      expect(r.body, target).toMatchObject({ code: '900400', message: 'Bad Request' });
      expect(r.body.description).toMatch(/RFC 3986/);
    }
    expect(backend.requests.length).toBe(before);
  });

  it('the attacker: ";" path parameters on dot segments (Tomcat\'s /api/..;/other) are refused like dot segments', async () => {
    for (const target of ['/probe/v1/..;/other', '/probe/v1/..;jsessionid=1/other', '/probe/v1/.;x/y', '/probe/v1/%2e%2e;/x', '/probe/v1/..%3b/x']) {
      const r = await get(target);
      expect(r.status, target).toBe(400);
      expect(r.body).toMatchObject({ code: '900400', description: 'The request path must not contain "." or ".." segments (also with ";" parameters)' });
    }
  });

  it('the legitimate client: every allowed character, percent-escapes and ordinary ";" parameters pass unchanged', async () => {
    const target = "/probe/v1/a-b._~!$&'()*+,;=:@/x;v=1/%20%2F?q=a/b?c&d=%5B1%5D";
    const r = await get(target);
    expect(r.status).toBe(200);
    expect(r.body.url).toBe("/api/a-b._~!$&'()*+,;=:@/x;v=1/%20%2F?q=a/b?c&d=%5B1%5D");
  });
});

describe('Host', () => {
  it('the attacker: two Host headers are 400, the legitimate client with one is served', async () => {
    const two = await raw(`GET /probe/v1/x HTTP/1.1\r\nHost: 127.0.0.1:${g.port}\r\nHost: evil.example\r\nAuthorization: Bearer ${tok}`);
    expect(two.status).toBe(400);
    expect(two.body).toEqual({ code: '900400', message: 'Bad Request', description: 'The request has more than one Host header' });
    expect((await get('/probe/v1/x')).status).toBe(200);
  });
});

describe('Bearer credential', () => {
  it('the malformed client: Bearer with no token, two tokens or bad characters is 400 invalid_request (RFC 6750 §3.1)', async () => {
    for (const authorization of ['Bearer', 'Bearer ', `Bearer ${tok} ${tok}`, `Bearer ${tok} x, Other: y`, 'Bearer tok!en', 'Bearer ,x']) {
      const r = await call(`${g.url}/probe/v1/x`, { headers: { authorization } });
      expect(r.status, authorization).toBe(400);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="invalid_request"');
      expect(r.json()).toEqual({ code: '900400', message: 'Bad Request', description: "Malformed Authorization header: send exactly one token, 'Authorization: Bearer <token>'" });
    }
  });

  it('the attacker: two Authorization headers (a valid token and another) are 400 invalid_request, whichever comes first, and never reach the backend', async () => {
    const before = backend.requests.length;
    for (const [first, second] of [[`Bearer ${tok}`, 'Bearer someone-elses-token'], ['Bearer someone-elses-token', `Bearer ${tok}`], [`Bearer ${tok}`, `Bearer ${tok}`], [`Bearer ${tok}`, 'Basic dXNlcjpwYXNz']]) {
      const r = await raw(`GET /probe/v1/x HTTP/1.1\r\nHost: 127.0.0.1:${g.port}\r\nAuthorization: ${first}\r\nauthorization: ${second}`);
      expect(r.status, `${first} + ${second}`).toBe(400);
      expect(r.body).toEqual({ code: '900400', message: 'Bad Request', description: "Malformed Authorization header: send exactly one token, 'Authorization: Bearer <token>'" });
    }
    expect(backend.requests.length).toBe(before);
    expect((await get('/probe/v1/x')).status).toBe(200);
  });

  it('the legitimate client: one token, also in WSO2\'s list form; no Bearer credential at all stays 401 900902', async () => {
    for (const authorization of [`Bearer ${tok}`, `bearer  ${tok}`, `Bearer ${tok}, Other: x`, `Bearer ${tok} ,Basic abc`]) {
      expect((await call(`${g.url}/probe/v1/x`, { headers: { authorization } })).status, authorization).toBe(200);
    }
    const none = await call(`${g.url}/probe/v1/x`, { headers: { authorization: 'Basic YTpi' } });
    expect(none.status).toBe(401);
    expect(none.json().code).toBe('900902');
  });
});

describe('request method', () => {
  const ALLOW = 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS';

  it('the scanner: a method no API resource can have (TRACE, QUERY with a body) is 405 with Allow, in WSO2\'s fault JSON, before routing; the backend sees nothing', async () => {
    const before = backend.requests.length;
    for (const head of [
      `TRACE /probe/v1/x HTTP/1.1\r\nHost: 127.0.0.1:${g.port}\r\nAuthorization: Bearer ${tok}`,
      `TRACE /no-such-api/v1/x HTTP/1.1\r\nHost: 127.0.0.1:${g.port}`,
      `QUERY /probe/v1/x HTTP/1.1\r\nHost: 127.0.0.1:${g.port}\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    ]) {
      const r = await raw(head);
      expect(r.status, head).toBe(405);
      expect(r.headers).toMatch(new RegExp(`\\r\\nallow: ${ALLOW}\\r\\n`, 'i'));
      expect(r.headers).toMatch(/\r\ncontent-type: application\/json/i);
      expect(r.body).toEqual({ code: '405', message: 'Runtime Error', description: 'Method not allowed for given API resource' });
    }
    expect(backend.requests.length).toBe(before);
  });

  it('the legitimate client: each of the seven methods in Allow still reaches the backend', async () => {
    for (const method of ALLOW.split(', ')) {
      const r = await call(`${g.url}/probe/v1/x`, { method, headers: { authorization: `Bearer ${tok}` } });
      expect(r.status, method).toBe(200);
      expect(backend.requests.at(-1)!.method).toBe(method);
    }
  });
});

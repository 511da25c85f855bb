import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayApi } from '../../src/gateway/types.js';
import { MemoryStore } from './support/memory-store.js';
import { call, rawCall, startBackend, startGateway, tokenKey, type TestBackend, type TestGateway } from './support/servers.js';

let prod: TestBackend;
let sandbox: TestBackend;
let store: MemoryStore;
let g: TestGateway;
let weather: GatewayApi;
let prodOnly: GatewayApi;
let deep: GatewayApi;
let based: GatewayApi;
let downApi: GatewayApi;
let slowApi: GatewayApi;
let tok: string;
let appId: string;

const WEATHER = '/weather/1.0.0';

beforeAll(async () => {
  [prod, sandbox] = await Promise.all([startBackend('production'), startBackend('sandbox')]);
  store = new MemoryStore();
  weather = store.addApi({ name: 'Weather', context: '/weather', version: '1.0.0', productionUrl: prod.url, sandboxUrl: sandbox.url });
  prodOnly = store.addApi({ name: 'ProdOnly', context: '/prodonly', version: 'v1', productionUrl: prod.url });
  deep = store.addApi({ name: 'Deep', context: '/org/team', version: '2', productionUrl: prod.url });
  based = store.addApi({ name: 'Based', context: '/based', version: 'v1', productionUrl: `${prod.url}/base/path/` });
  // a port nothing listens on: bind+close to get one
  const tmp = await startBackend('tmp');
  const deadUrl = tmp.url;
  await tmp.close();
  downApi = store.addApi({ name: 'Down', context: '/down', version: 'v1', productionUrl: deadUrl });
  slowApi = store.addApi({ name: 'Slow', context: '/slow', version: 'v1', productionUrl: prod.url, timeoutMs: 300 });
  const t = store.addToken();
  tok = t.token;
  appId = t.info.applicationId;
  for (const api of [weather, prodOnly, deep, based, downApi, slowApi]) store.subscribe(appId, api.id, 'Unlimited');
  g = await startGateway(store);
});

afterAll(async () => {
  await g?.close();
  await Promise.all([prod?.close(), sandbox?.close()]);
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('routing and forwarding', () => {
  it('forwards method, path and query to the production backend and keeps status and headers', async () => {
    const r = await call(`${g.url}${WEATHER}/forecast/today?city=Colombo&units=metric&x=%2F`, { method: 'PUT', headers: { ...bearer(tok), 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(r.status).toBe(200);
    const echo = r.json();
    expect(echo.backend).toBe('production');
    expect(echo.method).toBe('PUT');
    expect(echo.url).toBe('/forecast/today?city=Colombo&units=metric&x=%2F');
    expect(echo.bodyBytes).toBe(7);
    expect(echo.headers['content-type']).toBe('application/json');
    expect(r.headers['x-backend']).toBe('production');
    expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('keeps the backend status code', async () => {
    const r = await call(`${g.url}${WEATHER}/created?status=201`, { method: 'POST', headers: bearer(tok), body: 'x' });
    expect(r.status).toBe(201);
  });

  it('maps /context/version with no rest to the backend root', async () => {
    const a = await call(`${g.url}${WEATHER}`, { headers: bearer(tok) });
    expect(a.json().url).toBe('/');
    const b = await call(`${g.url}${WEATHER}?q=1`, { headers: bearer(tok) });
    expect(b.json().url).toBe('/?q=1');
  });

  it('matches a multi-segment context', async () => {
    const r = await call(`${g.url}/org/team/2/items/7?z=1`, { headers: bearer(tok) });
    expect(r.status).toBe(200);
    expect(r.json().url).toBe('/items/7?z=1');
  });

  it('prefixes the backend base path', async () => {
    const r = await call(`${g.url}/based/v1/things?y=2`, { headers: bearer(tok) });
    expect(r.json().url).toBe('/base/path/things?y=2');
    const root = await call(`${g.url}/based/v1?y=3`, { headers: bearer(tok) });
    expect(root.json().url).toBe('/base/path?y=3');
  });

  it('removes Authorization, hop-by-hop and Proxy-* headers, keeps end-to-end ones', async () => {
    const r = await rawCall(`${g.url}${WEATHER}/h`, 'GET', [
      'Authorization', `Bearer ${tok}`,
      'Connection', 'keep-alive, X-Named-Hop',
      'X-Named-Hop', 'drop me',
      'Keep-Alive', 'timeout=5',
      'TE', 'trailers',
      'Proxy-Authorization', 'Basic Zm9vOmJhcg==',
      'Proxy-Custom', 'x',
      'X-Keep', 'kept',
      'X-Multi', 'one',
      'X-Multi', 'two',
    ]);
    expect(r.status).toBe(200);
    const h = r.json().headers as Record<string, string>;
    for (const k of ['authorization', 'x-named-hop', 'keep-alive', 'te', 'trailer', 'proxy-authorization', 'proxy-custom', 'transfer-encoding', 'upgrade']) {
      expect(h, k).not.toHaveProperty(k);
    }
    expect(h['x-keep']).toBe('kept');
    expect(h['x-multi']).toBe('one, two');
    expect(h.host).toBe(`127.0.0.1:${prod.port}`);
  });

  it('removes hop-by-hop headers of the backend response', async () => {
    const r = await call(`${g.url}${WEATHER}/h`, { headers: bearer(tok) });
    expect(r.headers['x-hop']).toBeUndefined();
    expect(r.headers['x-backend']).toBe('production');
  });

  it('streams a chunked request body and drops Transfer-Encoding from the forwarded headers', async () => {
    const r = await rawCall(`${g.url}${WEATHER}/chunked`, 'POST', ['Authorization', `Bearer ${tok}`, 'Transfer-Encoding', 'chunked', 'Trailer', 'X-Foo'], 'hello chunked');
    const echo = r.json();
    expect(echo.bodyBytes).toBe(13);
    // the hop from gateway to backend is chunked too, but that is undici's framing, not the client's header
    expect(echo.headers.trailer).toBeUndefined();
    expect(echo.rawHeaders.filter((x: string) => x.toLowerCase() === 'transfer-encoding').length).toBeLessThanOrEqual(1);
  });

  it('sets X-Forwarded-For (the peer: a client\'s own is replaced), X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const r = await rawCall(`${g.url}${WEATHER}/xf`, 'GET', [
      'Authorization', `Bearer ${tok}`, 'X-Forwarded-For', '203.0.113.7', 'X-Forwarded-Proto', 'gopher', 'X-Forwarded-Host', 'evil.example',
    ]);
    const h = r.json().headers;
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(`127.0.0.1:${g.port}`);
    const plain = await call(`${g.url}${WEATHER}/xf`, { headers: bearer(tok) });
    expect(plain.json().headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('accepts a lowercase scheme and the WSO2 list form of Authorization', async () => {
    expect((await call(`${g.url}${WEATHER}/a`, { headers: { authorization: `bearer ${tok}` } })).status).toBe(200);
    expect((await call(`${g.url}${WEATHER}/a`, { headers: { authorization: `BEARER  ${tok}, Something: else` } })).status).toBe(200);
    expect((await call(`${g.url}${WEATHER}/a`, { headers: { authorization: `Bearer ${tok},Basic abc` } })).status).toBe(200);
  });

  it('routes a SANDBOX key to the sandbox backend', async () => {
    const s = store.addToken({ keyType: 'SANDBOX', applicationId: appId });
    const r = await call(`${g.url}${WEATHER}/where`, { headers: bearer(s.token) });
    expect(r.status).toBe(200);
    expect(r.json().backend).toBe('sandbox');
    expect(sandbox.requests.at(-1)?.url).toBe('/where');
  });

  it('keeps /token and /.well-known routes ahead of the gateway catch-all', async () => {
    const r = await call(`${g.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r.json()).toEqual({ token: 'endpoint' });
    expect((await call(`${g.url}/.well-known/jwks.json`)).json()).toEqual({ keys: [] });
  });

  it('passes HEAD and DELETE through', async () => {
    const h = await call(`${g.url}${WEATHER}/x`, { method: 'HEAD', headers: bearer(tok) });
    expect(h.status).toBe(200);
    expect(h.text).toBe('');
    const d = await call(`${g.url}${WEATHER}/x`, { method: 'DELETE', headers: bearer(tok) });
    expect(d.json().method).toBe('DELETE');
  });
});

describe('faults', () => {
  const JSON_CT = 'application/json; charset=utf-8';

  it('404 900906 when no API matches', async () => {
    for (const path of ['/nope/1.0/x', '/weather/9.9/x', '/weather', '/']) {
      const r = await call(`${g.url}${path}`, { headers: bearer(tok) });
      expect(r.status, path).toBe(404);
      expect(r.headers['content-type']).toBe(JSON_CT);
      expect(r.json()).toEqual({
        code: '900906',
        message: 'No matching resource found for given API Request',
        description: `No published API matches the request path ${path}`,
      });
    }
  });

  it('401 900902 Missing Credentials without a bearer token', async () => {
    const variants: Record<string, string>[] = [{}, { authorization: 'Basic YTpi' }, { authorization: `Bearertok${tok}` }];
    for (const headers of variants) {
      const r = await call(`${g.url}${WEATHER}/x`, { headers });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
      expect(r.headers['content-type']).toBe(JSON_CT);
      expect(r.json()).toEqual({
        code: '900902',
        message: 'Missing Credentials',
        description: 'Invalid Credentials. Make sure your API invocation call has a header: \'Authorization: Bearer <token>\'',
      });
    }
  });

  it('401 900901 Invalid Credentials for an unknown, expired or revoked token', async () => {
    const expired = store.addToken({ applicationId: appId, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const revoked = store.addToken({ applicationId: appId });
    store.revoke(revoked.token);
    for (const t of ['no-such-token', expired.token, revoked.token]) {
      const r = await call(`${g.url}${WEATHER}/x`, { headers: bearer(t) });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="invalid_token"');
      expect(r.json()).toEqual({
        code: '900901',
        message: 'Invalid Credentials',
        description: 'Access failure for API: the access token is invalid, expired or revoked. Make sure you have provided the correct security credentials',
      });
    }
  });

  it('403 900908 when the application is not subscribed', async () => {
    const other = store.addToken();
    const r = await call(`${g.url}${WEATHER}/x`, { headers: bearer(other.token) });
    expect(r.status).toBe(403);
    expect(r.json()).toEqual({
      code: '900908',
      message: 'Resource forbidden',
      description: `User is NOT authorized to access the Resource. API Subscription validation failed: application ${other.info.applicationName} is not subscribed to API Weather version 1.0.0`,
    });
  });

  it('403 900908 when the subscription is blocked', async () => {
    const t = store.addToken();
    store.subscribe(t.info.applicationId, weather.id, 'Gold', 'BLOCKED');
    const r = await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) });
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ code: '900908', message: 'Resource forbidden' });
    expect(r.json().description).toBe(`The subscription of application ${t.info.applicationName} to API Weather version 1.0.0 is blocked`);
  });

  it('403 900908 for a SANDBOX key on an API without sandbox endpoint', async () => {
    const s = store.addToken({ keyType: 'SANDBOX', applicationId: appId });
    const r = await call(`${g.url}/prodonly/v1/x`, { headers: bearer(s.token) });
    expect(r.status).toBe(403);
    expect(r.json()).toEqual({
      code: '900908',
      message: 'Resource forbidden',
      description: 'API ProdOnly version v1 has no sandbox endpoint: a SANDBOX key cannot be used with it; use a PRODUCTION key',
    });
  });

  it('403 (not 5xx) for a subscription on a tier the gateway does not know', async () => {
    const t = store.addToken();
    store.subscribe(t.info.applicationId, weather.id, 'Platinum');
    const r = await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) });
    expect(r.status).toBe(403);
    expect(r.json().description).toBe('The subscription tier Platinum is not configured on this gateway');
  });

  it('400 for dot segments that could climb out of the backend base path', async () => {
    for (const p of ['/based/v1/../../admin', '/based/v1/%2e%2e/admin', '/based/v1/..%2fadmin', '/based/v1/./x']) {
      const r = await rawCall(`${g.url}${p}`, 'GET', ['Authorization', `Bearer ${tok}`]);
      expect(r.status, p).toBe(400);
      expect(r.json().code).toBe('900400');
    }
    // dots inside a segment are fine
    expect((await call(`${g.url}/based/v1/file.tar.gz`, { headers: bearer(tok) })).status).toBe(200);
  });

  it('502 101503 when the backend refuses connections', async () => {
    const r = await call(`${g.url}/down/v1/x`, { headers: bearer(tok) });
    expect(r.status).toBe(502);
    expect(r.json()).toEqual({ code: '101503', message: 'Runtime Error', description: 'Error connecting to the back end' });
  });

  it('504 101504 when the backend is slower than the API timeout', async () => {
    const t0 = Date.now();
    const r = await call(`${g.url}/slow/v1/slow?ms=3000`, { headers: bearer(tok) });
    expect(r.status).toBe(504);
    expect(r.json()).toEqual({ code: '101504', message: 'Runtime Error', description: 'Connection timed out' });
    expect(Date.now() - t0).toBeLessThan(2000);
    // within the timeout it works
    expect((await call(`${g.url}/slow/v1/slow?ms=10`, { headers: bearer(tok) })).status).toBe(200);
  });

  it('503 900900 when the store fails, and recovers after', async () => {
    const t = store.addToken({ applicationId: appId });
    store.failWith = new Error('db down');
    try {
      const r = await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) });
      expect(r.status).toBe(503);
      expect(r.json().code).toBe('900900');
    } finally {
      store.failWith = undefined;
    }
    expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })).status).toBe(200);
  });

  it('closes the connection on a fault for a request whose body was not read', async () => {
    const r = await rawCall(`${g.url}${WEATHER}/x`, 'POST', ['Content-Length', '5'], 'hello');
    expect(r.status).toBe(401);
    expect(r.headers.connection).toBe('close');
  });
});

describe('caches', () => {
  it('a cached token, API and subscription means zero store calls', async () => {
    const t = store.addToken({ applicationId: appId });
    await call(`${g.url}${WEATHER}/warm`, { headers: bearer(t.token) });
    const before = { ...store.calls };
    for (let i = 0; i < 20; i++) expect((await call(`${g.url}${WEATHER}/hot`, { headers: bearer(t.token) })).status).toBe(200);
    expect(store.calls).toEqual(before);
  });

  it('invalidate({tokenKeys}) makes the next call 401', async () => {
    const t = store.addToken({ applicationId: appId });
    expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })).status).toBe(200);
    store.revoke(t.token);
    // still cached: the store is not asked
    expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })).status).toBe(200);
    expect(g.gw.invalidate({ tokenKeys: [tokenKey(t.token)] })).toBe(1);
    expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })).status).toBe(401);
  });

  it('invalidate({grantIds}) drops every token of the grant', async () => {
    const a = store.addToken({ applicationId: appId, grantId: 'grant-shared' });
    const b = store.addToken({ applicationId: appId, grantId: 'grant-shared' });
    for (const t of [a, b]) expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })).status).toBe(200);
    store.revoke(a.token);
    store.revoke(b.token);
    expect(g.gw.invalidate({ grantIds: ['grant-shared'] })).toBe(2);
    for (const t of [a, b]) expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })).status).toBe(401);
  });

  it('negative cache: a flood of one bad token reaches the store once', async () => {
    const before = store.calls.token;
    const results = await Promise.all(Array.from({ length: 30 }, () => call(`${g.url}${WEATHER}/x`, { headers: bearer('flood-token') })));
    for (let i = 0; i < 30; i++) expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer('flood-token') })).status).toBe(401);
    expect(results.every((r) => r.status === 401)).toBe(true);
    expect(store.calls.token - before).toBe(1);
  });

  it('concurrent first uses of a valid token coalesce into one store lookup', async () => {
    const t = store.addToken({ applicationId: appId });
    store.delayMs = 50;
    try {
      const before = store.calls.token;
      const results = await Promise.all(Array.from({ length: 20 }, () => call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(store.calls.token - before).toBe(1);
    } finally {
      store.delayMs = 0;
    }
  });

  it('invalidateApis() re-reads APIs and subscriptions', async () => {
    const t = store.addToken();
    const s = store.subscribe(t.info.applicationId, weather.id, 'Gold');
    expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })).status).toBe(200);
    s.status = 'BLOCKED';
    expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })).status).toBe(200);
    g.gw.invalidateApis();
    expect((await call(`${g.url}${WEATHER}/x`, { headers: bearer(t.token) })).status).toBe(403);
  });
});

describe('metrics', () => {
  it('counts requests by api, version and status, durations, cache hits and misses, backend errors', async () => {
    await call(`${g.url}${WEATHER}/m`, { headers: bearer(tok) });
    await call(`${g.url}/down/v1/m`, { headers: bearer(tok) });
    const text = (await call(`${g.url}/metrics`)).text;
    expect(text).toMatch(/gatehouse_gateway_requests_total\{api="Weather",version="1.0.0",status="200"\} \d+/);
    expect(text).toMatch(/gatehouse_gateway_requests_total\{api="",version="",status="404"\} \d+/);
    expect(text).toMatch(/gatehouse_gateway_request_duration_seconds_count\{api="Weather",version="1.0.0"\} \d+/);
    expect(text).toMatch(/gatehouse_gateway_token_cache_hits_total\{kind="positive"\} [1-9]\d*/);
    expect(text).toMatch(/gatehouse_gateway_token_cache_hits_total\{kind="negative"\} [1-9]\d*/);
    expect(text).toMatch(/gatehouse_gateway_token_cache_misses_total [1-9]\d*/);
    expect(text).toMatch(/gatehouse_gateway_backend_errors_total\{api="Down",version="v1",kind="connect"\} [1-9]\d*/);
    expect(text).toMatch(/gatehouse_gateway_backend_errors_total\{api="Slow",version="v1",kind="timeout"\} [1-9]\d*/);
  });
});

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { PATTERN_CHUNK, patternSha256, startBackend, type TestBackend } from '../gateway/support/servers.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { REDIS_URL, REQUIRE_SERVICES } from '../support/services.js';
import { createClient, startTestServer, TEST_KEYS_SECRET, type TestClient, type TestServer } from '../support/server.js';
import { gatehouse } from '../support/cli.js';

/**
 * The gateway on a real node: tokens from /token, APIs and subscriptions made with the CLI,
 * two real backends (production and sandbox) on loopback.
 */
const kinds = await availableKinds();

// Live memory (after a forced GC) sampled while `fn` runs: the peak growth in bytes.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
async function peakGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const mem = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = mem();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, mem())), 20);
  try {
    return { result: await fn(), growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

describe.each(kinds)('API gateway on a real node (%s)', (kind) => {
  let s: TestServer;
  let prod: TestBackend;
  let sandbox: TestBackend;
  let c: TestClient;
  let sb: TestClient;
  let stranger: TestClient;
  // The CLI reads the same configuration file as the server would (here: the tiers).
  const cli = (...args: string[]) =>
    gatehouse(['--config', `${s.db.dataDir}/gatehouse.yaml`, '--data-dir', s.db.dataDir, ...args], s.db.database.url ? { GATEHOUSE_DATABASE_URL: s.db.database.url, GATEHOUSE_DATABASE_SCHEMA: s.db.database.schema! } : {});
  const token = async (client: TestClient) => {
    const r = await postForm(`${s.http}/token`, { grant_type: 'password', username: 'alice', password: 'correct horse' }, { authorization: basic(client.consumerKey, client.consumerSecret) });
    expect(r.status).toBe(200);
    return r.json.access_token as string;
  };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  beforeAll(async () => {
    [prod, sandbox] = await Promise.all([startBackend('production'), startBackend('sandbox')]);
    s = await startTestServer(kind, {
      throttling: { tiers: { Gold: { requests: 1000, perSeconds: 60 }, Tiny: { requests: 3, perSeconds: 60 }, Unlimited: 'unlimited' } },
      gateway: { apiCacheTtl: 0, tokenCacheTtl: 300 },
    });
    writeFileSync(`${s.db.dataDir}/gatehouse.yaml`, 'throttling:\n  tiers:\n    Gold: { requests: 1000, perSeconds: 60 }\n    Tiny: { requests: 3, perSeconds: 60 }\n    Unlimited: unlimited\n');
    c = await createClient(s, { owner: 'alice', app: 'weather-app' });
    sb = await createClient(s, { owner: 'alice', app: 'weather-app', keyType: 'SANDBOX' });
    stranger = await createClient(s, { owner: 'alice', app: 'unsubscribed-app' });
    const ok = async (...args: string[]) => {
      const r = await cli(...args);
      expect(r.code, r.stderr).toBe(0);
    };
    await ok('api', 'create', '--name', 'WeatherAPI', '--context', '/weather', '--version', 'v1', '--production-url', `${prod.url}/base`, '--sandbox-url', sandbox.url, '--tiers', 'Gold,Tiny', '--jwt', '--publish');
    await ok('api', 'create', '--name', 'Limited', '--context', '/limited', '--version', '1.0', '--production-url', prod.url, '--tiers', 'Tiny', '--publish');
    await ok('api', 'create', '--name', 'NoSandbox', '--context', '/nosandbox', '--version', 'v1', '--production-url', prod.url, '--tiers', 'Gold', '--publish');
    await ok('api', 'create', '--name', 'Down', '--context', '/down', '--version', 'v1', '--production-url', 'http://127.0.0.1:9', '--tiers', 'Gold', '--publish');
    await ok('api', 'create', '--name', 'Draft', '--context', '/draft', '--version', 'v1', '--production-url', prod.url, '--tiers', 'Gold');
    for (const api of ['WeatherAPI:v1', 'NoSandbox:v1', 'Down:v1', 'Draft:v1']) await ok('subscribe', '--owner', 'alice', '--app', 'weather-app', '--api', api, '--tier', 'Gold');
    await ok('subscribe', '--owner', 'alice', '--app', 'weather-app', '--api', 'Limited:1.0', '--tier', 'Tiny');
  });
  afterAll(async () => {
    await s?.close();
    await Promise.all([prod?.close(), sandbox?.close()]);
  });

  it('routes a PRODUCTION token to the production backend, path and query kept, Authorization removed', async () => {
    const t = await token(c);
    for (const base of [s.http, s.https]) {
      const r = await call(`${base}/weather/v1/forecast/today?city=Colombo&days=2`, { headers: { ...bearer(t), 'x-custom': 'kept' } });
      expect(r.status, r.text).toBe(200);
      expect(r.headers['x-backend']).toBe('production');
      const echo = r.json;
      expect(echo.url).toBe('/base/forecast/today?city=Colombo&days=2');
      expect(echo.headers.authorization).toBeUndefined();
      expect(echo.headers['x-custom']).toBe('kept');
      expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(echo.headers['x-forwarded-proto']).toBe(base.startsWith('https') ? 'https' : 'http');
    }
  });

  it('passes the backend a signed X-JWT-Assertion that verifies against the node\'s JWKS', async () => {
    const t = await token(c);
    const r = await call(`${s.http}/weather/v1/me`, { headers: bearer(t) });
    const jwt = r.json.headers['x-jwt-assertion'];
    expect(jwt).toBeTypeOf('string');
    const jwks = createRemoteJWKSet(new URL(`${s.http}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(jwt, jwks, { issuer: s.server.config.oauth.issuer });
    expect(payload).toMatchObject({
      sub: 'alice',
      'http://wso2.org/claims/subscriber': 'alice',
      'http://wso2.org/claims/applicationname': 'weather-app',
      'http://wso2.org/claims/keytype': 'PRODUCTION',
      'http://wso2.org/claims/tier': 'Gold',
      'http://wso2.org/claims/enduser': 'alice',
    });
  });

  it('routes a SANDBOX token to the sandbox backend, and refuses it on an API without one', async () => {
    const t = await token(sb);
    const r = await call(`${s.http}/weather/v1/x`, { headers: bearer(t) });
    expect(r.headers['x-backend']).toBe('sandbox');
    // The sandbox key's application is subscribed through its PRODUCTION sibling: same application.
    const none = await call(`${s.http}/nosandbox/v1/x`, { headers: bearer(t) });
    expect(none.status).toBe(403);
    expect(none.json.code).toBe('900908');
  });

  it('401 900902 without a token and 900901 for an unknown one, with WWW-Authenticate', async () => {
    const missing = await call(`${s.http}/weather/v1/x`);
    expect(missing.status).toBe(401);
    expect(missing.json).toMatchObject({ code: '900902', message: 'Missing Credentials' });
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    const bad = await call(`${s.http}/weather/v1/x`, { headers: bearer('not-a-token') });
    expect(bad.status).toBe(401);
    expect(bad.json).toMatchObject({ code: '900901', message: 'Invalid Credentials' });
    expect(bad.headers['www-authenticate']).toContain('invalid_token');
  });

  it('a token revoked at /revoke is refused on the very next call', async () => {
    const t = await token(c);
    expect((await call(`${s.http}/weather/v1/x`, { headers: bearer(t) })).status).toBe(200);
    expect((await postForm(`${s.http}/revoke`, { token: t }, { authorization: basic(c.consumerKey, c.consumerSecret) })).status).toBe(200);
    const after = await call(`${s.http}/weather/v1/x`, { headers: bearer(t) });
    expect(after.status).toBe(401);
    expect(after.json.code).toBe('900901');
  });

  it('revoking a refresh token ends its access tokens at the gateway too', async () => {
    const r = (await postForm(`${s.http}/token`, { grant_type: 'password', username: 'alice', password: 'correct horse' }, { authorization: basic(c.consumerKey, c.consumerSecret) })).json;
    expect((await call(`${s.http}/weather/v1/x`, { headers: bearer(r.access_token) })).status).toBe(200);
    await postForm(`${s.http}/revoke`, { token: r.refresh_token }, { authorization: basic(c.consumerKey, c.consumerSecret) });
    expect((await call(`${s.http}/weather/v1/x`, { headers: bearer(r.access_token) })).status).toBe(401);
  });

  it('403 900908 when the application is not subscribed, or its subscription is blocked', async () => {
    const t = await token(stranger);
    const r = await call(`${s.http}/weather/v1/x`, { headers: bearer(t) });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('900908');
    const mine = await token(c);
    expect((await cli('subscription', 'block', '--owner', 'alice', '--app', 'weather-app', '--api', 'NoSandbox:v1')).code).toBe(0);
    const blocked = await call(`${s.http}/nosandbox/v1/x`, { headers: bearer(mine) });
    expect(blocked.status).toBe(403);
    expect(blocked.json.code).toBe('900908');
    expect((await cli('subscription', 'unblock', '--owner', 'alice', '--app', 'weather-app', '--api', 'NoSandbox:v1')).code).toBe(0);
    expect((await call(`${s.http}/nosandbox/v1/x`, { headers: bearer(mine) })).status).toBe(200);
  });

  it('404 for no such API, an unpublished one and a retired one', async () => {
    const t = await token(c);
    expect((await call(`${s.http}/nothing/v1/x`, { headers: bearer(t) })).status).toBe(404);
    expect((await call(`${s.http}/draft/v1/x`, { headers: bearer(t) })).status).toBe(404);
    expect((await cli('api', 'retire', 'NoSandbox:v1')).code).toBe(0);
    const retired = await call(`${s.http}/nosandbox/v1/x`, { headers: bearer(t) });
    expect(retired.status).toBe(404);
    expect(retired.headers['content-type']).toMatch(/json/);
  });

  it('throttles by the subscription tier: 429 900800 with Retry-After', async () => {
    const t = await token(c);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(`${s.http}/limited/1.0/x`, { headers: bearer(t) })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const r = await call(`${s.http}/limited/1.0/x`, { headers: bearer(t) });
    expect(r.json).toMatchObject({ code: '900800', message: 'Message throttled out' });
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('streams a 50 MB upload and a 50 MB download through the node with flat memory', async () => {
    const t = await token(c);
    const SIZE = 50 * 1024 * 1024;
    const { result, growth } = await peakGrowth(async () => {
      const up = await new Promise<any>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: s.server.ports.http, method: 'POST', path: '/weather/v1/upload', agent: false,
            headers: { authorization: `Bearer ${t}`, 'content-type': 'application/octet-stream', 'content-length': String(SIZE) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (d: Buffer) => chunks.push(d));
            res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
          },
        );
        req.on('error', reject);
        let sent = 0;
        const pump = (): void => {
          while (sent < SIZE) {
            sent += PATTERN_CHUNK.length;
            if (!req.write(PATTERN_CHUNK)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      const down = await new Promise<{ bytes: number; sha: string }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: s.server.ports.http, path: `/weather/v1/download?bytes=${SIZE}`, agent: false, headers: { authorization: `Bearer ${t}` } }, (res) => {
            const h = createHash('sha256');
            let bytes = 0;
            res.on('data', (d: Buffer) => {
              bytes += d.length;
              h.update(d);
            });
            res.on('end', () => resolve({ bytes, sha: h.digest('hex') }));
          })
          .on('error', reject);
      });
      return { up, down };
    });
    expect(result.up.bodyBytes).toBe(SIZE);
    expect(result.up.bodySha256).toBe(patternSha256(SIZE));
    expect(result.down).toEqual({ bytes: SIZE, sha: patternSha256(SIZE) });
    // A node holding a whole body would grow by 50 MB or more.
    expect(growth).toBeLessThan(25 * 1024 * 1024);
  }, 90_000); // 100 MB through loopback and two hops: seconds on a quiet machine, far more on a loaded one

  it('502 JSON when the backend is down', async () => {
    const r = await call(`${s.http}/down/v1/x`, { headers: bearer(await token(c)) });
    expect(r.status).toBe(502);
    expect(r.json).toEqual({ code: '101503', message: 'Runtime Error', description: 'Error connecting to the back end' });
  });

  it('keeps the token service and metadata routes ahead of the gateway', async () => {
    expect((await call(`${s.http}/.well-known/oauth-authorization-server`)).json.issuer).toBe(s.server.config.oauth.issuer);
    expect((await call(`${s.http}/health/live`)).json).toEqual({ status: 'ok' });
  });

  it('exposes Prometheus metrics on the management listener', async () => {
    const m = await call(`${s.portal}/metrics`);
    expect(m.status).toBe(200);
    expect(m.text).toMatch(/gatehouse_gateway_requests_total\{api="WeatherAPI",version="v1",status="200"\} \d+/);
    expect(m.text).toContain('gatehouse_gateway_throttled_total');
    expect(m.text).toContain('gatehouse_gateway_token_cache_hits_total');
    expect(m.text).toContain('gatehouse_gateway_request_duration_seconds_bucket');
  });
});

// Two nodes sharing PostgreSQL and Redis: a revocation on one reaches the other's cache at once.
const multiNode = kinds.includes('postgres');
describe.runIf(multiNode)('two nodes sharing PostgreSQL and Redis', () => {
  let a: TestServer;
  let b: RunningServer;
  let backend: TestBackend;
  let redisOk = false;

  beforeAll(async () => {
    const { redisAvailable } = await import('../gateway/support/servers.js');
    redisOk = await redisAvailable(REDIS_URL);
    if (!redisOk) {
      if (REQUIRE_SERVICES) throw new Error(`Redis at ${REDIS_URL} is not reachable and GATEHOUSE_REQUIRE_SERVICES=1 requires it`);
      console.warn(`SKIP: Redis at ${REDIS_URL} is not reachable; multi-node invalidation test skipped`);
      return;
    }
    backend = await startBackend('production');
    a = await startTestServer('postgres', { redis: { url: REDIS_URL }, gateway: { tokenCacheTtl: 3600 } });
    b = await startServer(
      loadConfig({}, {}, {
        dataDir: `${a.db.dataDir}-b`,
        database: a.db.database,
        keys: { secret: TEST_KEYS_SECRET },
        redis: { url: REDIS_URL },
        gateway: { tokenCacheTtl: 3600 },
        listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 },
        log: { level: 'silent' },
      }),
      { logger: createLogger('silent') },
    );
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await backend?.close();
  });

  it('revoking on node A makes node B refuse the cached token immediately', async () => {
    if (!redisOk) return;
    const c = await createClient(a, { owner: 'alice', app: 'multi' });
    const api = await a.server.store.apis.create({ name: 'Multi', context: '/multi', version: 'v1', productionUrl: backend.url, tiers: ['Gold'], sendJwt: false, status: 'PUBLISHED', description: null });
    await a.server.store.apis.subscribe(c.applicationId, api.id, 'Gold');
    const t = (await postForm(`${a.http}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, c.consumerSecret) })).json.access_token;
    const onB = `http://127.0.0.1:${b.ports.http}/multi/v1/x`;
    expect((await call(onB, { headers: { authorization: `Bearer ${t}` } })).status).toBe(200); // now cached on B
    await postForm(`${a.http}/revoke`, { token: t }, { authorization: basic(c.consumerKey, c.consumerSecret) });
    let status = 0;
    for (let i = 0; i < 20 && status !== 401; i++) {
      await new Promise((r) => setTimeout(r, 25));
      status = (await call(onB, { headers: { authorization: `Bearer ${t}` } })).status;
    }
    expect(status).toBe(401);
  });
});

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { startBackend, type TestBackend } from '../gateway/support/servers.js';
import { gatehouse } from '../support/cli.js';
import { postgresAvailable, REDIS_URL, REQUIRE_SERVICES } from '../support/services.js';
import { basic, call, postForm } from '../support/http.js';
import { addUser, startTestServer, TEST_KEYS_SECRET, type TestServer } from '../support/server.js';

/**
 * Issue 9 item 5: a change made through the admin API, or with the CLI in another process, is in
 * force at the gateway and the token endpoint within 1 s, on one node (SQLite) and on every node
 * sharing PostgreSQL. Every cache TTL here is far longer than the test, so only the change feed
 * can explain what the test sees. The worst time measured is printed.
 */
const LIMIT_MS = 1000;
const TIERS = { Trial: { requests: 1, perSeconds: 3600 } };
const LONG_TTLS = { gateway: { tokenCacheTtl: 3600, apiCacheTtl: 3600, negativeCacheTtl: 3600 }, oauth: { clientCacheTtl: 300 }, throttling: { tiers: TIERS } };
const timings: Record<string, number> = {};

interface Node {
  http: string;
  portal: string;
}

/** Polls `holds` until true; the milliseconds it took (fails past the limit). */
async function inForce(label: string, holds: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await holds()) break;
    if (Date.now() - start > LIMIT_MS + 500) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const ms = Date.now() - start;
  timings[label] = ms;
  expect(ms, `${label} took ${ms} ms`).toBeLessThanOrEqual(LIMIT_MS);
  return ms;
}

/**
 * One scenario per change: a fresh application, key, API and subscription, warmed into every
 * cache of the node that is measured; then the change through `via`, then the wait.
 */
function scenarios(name: string, nodes: () => { setup: TestServer; measured: Node; cliEnv: Record<string, string>; dataDir: string }) {
  const json = { 'content-type': 'application/json' };
  let backend: TestBackend;
  let n = 0;

  beforeAll(async () => {
    backend = await startBackend('production');
    const { setup } = nodes();
    await addUser(setup, 'root', 'root-password', 'admin');
    await addUser(setup, 'pub', 'publisher-pw', 'publisher');
  });
  afterAll(async () => backend?.close());

  const rest = async (method: string, path: string, body?: unknown, user = 'root:root-password') => {
    const [u, p] = user.split(':') as [string, string];
    const r = await call(`${nodes().setup.portal}/api/v1${path}`, { method, headers: { ...json, authorization: basic(u, p) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    expect(r.status, r.text).toBeLessThan(300);
    return r.json;
  };
  const cli = async (...args: string[]) => {
    // The CLI reads the same tiers as the nodes, from a configuration file.
    const config = path.join(nodes().dataDir, 'tiers.yaml');
    writeFileSync(config, `throttling:\n  tiers:\n    Trial: { requests: 1, perSeconds: 3600 }\n`);
    const r = await gatehouse(['--config', config, '--data-dir', nodes().dataDir, ...args], nodes().cliEnv);
    expect(r.code, r.stderr).toBe(0);
  };

  /** A subscriber with an application, keys, a published API and a subscription; tokens warmed on the measured node. */
  async function world() {
    const i = ++n;
    const owner = `sub${i}`;
    await rest('POST', '/users', { username: owner, password: 'subscriber-pw', role: 'subscriber' });
    const app = await rest('POST', '/applications', { name: `app${i}`, owner });
    const keys = await rest('POST', `/applications/${app.id}/keys/PRODUCTION`, {});
    const api = await rest('POST', '/apis', { name: `Api${i}`, context: `/p${i}`, version: 'v1', productionUrl: backend.url, tiers: ['Gold'] }, 'pub:publisher-pw');
    await rest('POST', `/apis/${api.id}/publish`, undefined, 'pub:publisher-pw');
    const sub = await rest('POST', '/subscriptions', { applicationId: app.id, apiId: api.id, tier: 'Gold' }, `${owner}:subscriber-pw`);
    const m = nodes().measured;
    const auth = { authorization: basic(keys.consumerKey, keys.consumerSecret) };
    const tokens = (await postForm(`${m.http}/token`, { grant_type: 'password', username: owner, password: 'subscriber-pw' }, auth)).json;
    const url = `${m.http}/p${i}/v1/x`;
    const gw = () => call(url, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await gw()).status).toBe(200); // token, API and subscription now cached on the measured node
    expect((await postForm(`${m.http}/token`, { grant_type: 'client_credentials' }, auth)).status).toBe(200); // client record cached
    return { owner, app, keys, api, sub, tokens, gw, auth, m, ref: `Api${i}:v1` };
  }

  for (const via of ['rest', 'cli'] as const) {
    describe(`${name}, changes made through ${via === 'rest' ? 'the admin API' : 'the CLI in another process'}`, () => {
      it('a retired API stops routing', async () => {
        const w = await world();
        if (via === 'rest') await rest('POST', `/apis/${w.api.id}/retire`, undefined, 'pub:publisher-pw');
        else await cli('api', 'retire', w.ref);
        await inForce(`${name} ${via} retire`, async () => (await w.gw()).status === 404);
      });

      it('a blocked subscription gets 403, and a removed one', async () => {
        const w = await world();
        if (via === 'rest') await rest('POST', `/subscriptions/${w.sub.id}/block`, undefined, 'pub:publisher-pw');
        else await cli('subscription', 'block', '--owner', w.owner, '--app', w.app.name, '--api', w.ref);
        await inForce(`${name} ${via} block`, async () => (await w.gw()).status === 403);
        if (via === 'rest') await rest('POST', `/subscriptions/${w.sub.id}/unblock`, undefined, 'pub:publisher-pw');
        else await cli('subscription', 'unblock', '--owner', w.owner, '--app', w.app.name, '--api', w.ref);
        await inForce(`${name} ${via} unblock`, async () => (await w.gw()).status === 200);
        if (via === 'rest') await rest('DELETE', `/subscriptions/${w.sub.id}`);
        else await cli('unsubscribe', '--owner', w.owner, '--app', w.app.name, '--api', w.ref);
        await inForce(`${name} ${via} unsubscribe`, async () => (await w.gw()).status === 403);
      });

      it('a regenerated secret stops authenticating', async () => {
        const w = await world();
        if (via === 'rest') await rest('POST', `/applications/${w.app.id}/keys/PRODUCTION/secret`);
        else await cli('app', 'keys', w.app.name, '--owner', w.owner, '--regenerate');
        await inForce(`${name} ${via} regenerate secret`, async () => (await postForm(`${w.m.http}/token`, { grant_type: 'client_credentials' }, w.auth)).status === 401);
      });

      it("revoked key tokens and a deleted application's tokens get 401 at the gateway", async () => {
        const w = await world();
        if (via === 'rest') await rest('POST', `/applications/${w.app.id}/keys/PRODUCTION/revoke-tokens`);
        else await cli('app', 'revoke-tokens', w.app.name, '--owner', w.owner);
        await inForce(`${name} ${via} revoke key tokens`, async () => (await w.gw()).status === 401);

        const again = await world();
        if (via === 'rest') await rest('DELETE', `/applications/${again.app.id}`);
        else await cli('app', 'delete', again.app.name, '--owner', again.owner);
        await inForce(`${name} ${via} delete application`, async () => (await again.gw()).status === 401);
      });

      it("an application moved to a smaller tier is held to it across its APIs (the application's tier)", async () => {
        const w = await world();
        if (via === 'rest') await rest('PATCH', `/applications/${w.app.id}`, { tier: 'Trial' });
        else await cli('app', 'update', w.app.name, '--owner', w.owner, '--tier', 'Trial');
        // Trial admits one call an hour: in force once a call is refused.
        await inForce(`${name} ${via} application tier`, async () => (await w.gw()).status === 429);
      });

      it('a locked user can no longer sign in or refresh', async () => {
        const w = await world();
        if (via === 'rest') await rest('PATCH', `/users/${w.owner}`, { locked: true });
        else await cli('user', 'lock', w.owner);
        await inForce(`${name} ${via} lock (refresh)`, async () => {
          const r = await postForm(`${w.m.http}/token`, { grant_type: 'refresh_token', refresh_token: w.tokens.refresh_token }, w.auth);
          return r.status === 400 && r.json.error === 'invalid_grant';
        });
        const signIn = await postForm(`${w.m.http}/token`, { grant_type: 'password', username: w.owner, password: 'subscriber-pw' }, w.auth);
        expect(signIn.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid username or password, or the account is temporarily locked.' });
        await inForce(`${name} ${via} lock (gateway)`, async () => (await w.gw()).status === 401);
      });
    });
  }
}

describe('one node on SQLite', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', LONG_TTLS);
  });
  afterAll(async () => s?.close());
  scenarios('sqlite', () => ({ setup: s, measured: s, cliEnv: {}, dataDir: s.db.dataDir }));
});

const pg = await postgresAvailable();
const redis = pg && (await (await import('../gateway/support/servers.js')).redisAvailable(REDIS_URL));
if (pg && !redis) {
  if (REQUIRE_SERVICES) throw new Error(`Redis is required (GATEHOUSE_REQUIRE_SERVICES=1) but ${REDIS_URL} does not answer`);
  console.warn(`SKIP: two-node propagation tests need Redis at ${REDIS_URL}`);
}

describe.runIf(redis)('two nodes sharing PostgreSQL and Redis: changes made on node A (or the CLI) in force on node B', () => {
  let a: TestServer;
  let b: RunningServer;
  beforeAll(async () => {
    a = await startTestServer('postgres', { ...LONG_TTLS, redis: { url: REDIS_URL } });
    b = await startServer(
      loadConfig({}, {}, {
        dataDir: a.db.dataDir,
        database: a.db.database,
        keys: { secret: TEST_KEYS_SECRET },
        redis: { url: REDIS_URL },
        ...LONG_TTLS,
        listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 },
        log: { level: 'silent' },
      }),
      { logger: createLogger('silent') },
    );
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });
  scenarios('postgres', () => ({
    setup: a,
    measured: { http: `http://127.0.0.1:${b.ports.http}`, portal: `https://127.0.0.1:${b.ports.portal}` },
    cliEnv: { GATEHOUSE_DATABASE_URL: a.db.database.url!, GATEHOUSE_DATABASE_SCHEMA: a.db.database.schema! },
    dataDir: a.db.dataDir,
  }));
});

afterAll(() => {
  const worst = Object.entries(timings).sort((x, y) => y[1] - x[1]);
  if (worst.length > 0) console.log(`propagation: worst ${worst[0]![1]} ms (${worst[0]![0]}); all: ${worst.map(([k, v]) => `${k} ${v}`).join(', ')}`);
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, redisAvailable, type TestBackend } from '../gateway/support/servers.js';
import { gatehouse } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { postgresAvailable, REDIS_URL, REQUIRE_SERVICES } from '../support/services.js';
import { kill, spawnStart, type StartedProcess } from '../support/start-process.js';

/**
 * Issue 13, acceptance: three nodes (three `gatehouse start` processes on loopback) on the
 * shared PostgreSQL (a schema of this run's own) and Redis. 50 times: a token issued on A is used
 * on B and C, revoked on A, and the time until both B and C refuse it is measured. Then one change
 * of each management kind made on A is timed until B and C both obey it. Every cache TTL is far
 * longer than the test, so only the propagation explains what B and C do. p50/p99 are printed.
 */
const ROUNDS = 50;
const SANE_MS = 1000;
const pg = await postgresAvailable();
const redis = pg && (await redisAvailable(REDIS_URL));
if (pg && !redis) {
  if (REQUIRE_SERVICES) throw new Error(`Redis is required (GATEHOUSE_REQUIRE_SERVICES=1) but ${REDIS_URL} does not answer`);
  console.warn(`SKIP: the three-node test needs Redis at ${REDIS_URL}`);
}

interface Node {
  p: StartedProcess;
  dir: string;
  http: string;
  portal: string;
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/** Polls `holds` on every node at once until all hold; the ms until the last did (or the limit + 500). */
async function untilAll<T>(nodes: T[], holds: (n: T) => Promise<boolean>): Promise<number> {
  const start = performance.now();
  await Promise.all(
    nodes.map(async (n) => {
      while (!(await holds(n)) && performance.now() - start < SANE_MS + 500) await new Promise((r) => setTimeout(r, 2));
    }),
  );
  return performance.now() - start;
}

describe.runIf(redis)('three nodes on PostgreSQL and Redis', () => {
  let db: TestDatabase;
  let backend: TestBackend;
  const nodes: Node[] = [];
  const json = { 'content-type': 'application/json' };
  const rest = async (method: string, p: string, body?: unknown, user = 'root:root-password-1') => {
    const [u, pw] = user.split(':') as [string, string];
    const r = await call(`${nodes[0]!.portal}/api/v1${p}`, { method, headers: { ...json, authorization: basic(u, pw) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    expect(r.status, r.text).toBeLessThan(300);
    return r.json;
  };

  beforeAll(async () => {
    backend = await startBackend('production');
    db = await createTestDatabase('postgres');
    const yaml = (dir: string) =>
      [
        `dataDir: ${dir}`,
        `database: { url: "${db.database.url}", schema: ${db.database.schema} }`,
        `redis: { url: "${REDIS_URL}" }`,
        `keys: { secret: "three-nodes-share-this-secret-of-40-chars" }`,
        'listeners: { host: 127.0.0.1, portal: 0, https: 0, http: 0 }',
        'gateway: { tokenCacheTtl: 3600, apiCacheTtl: 3600, negativeCacheTtl: 3600 }',
        'oauth: { clientCacheTtl: 300 }',
        'throttling: { tiers: { Trial: { requests: 1, perSeconds: 3600 } } }',
      ].join('\n');
    // All three start at once on the empty schema: they migrate it once between them.
    const started = await Promise.all(
      ['a', 'b', 'c'].map(async (name) => {
        const dir = mkdtempSync(path.join(tmpdir(), `gatehouse-3n-${name}-`));
        writeFileSync(path.join(dir, 'gatehouse.yaml'), yaml(dir));
        const p = await spawnStart(['--config', path.join(dir, 'gatehouse.yaml')]);
        // Three processes starting at once on two busy cores: allow them time.
        await p.waitFor(/"msg":"gatehouse started"/, 90_000);
        return { p, dir };
      }),
    );
    for (const { p, dir } of started) {
      const line = p.logs().find((l) => l.msg === 'gatehouse started') as { ports: { http: number; portal: number } } | undefined;
      expect(line, p.output()).toBeTruthy();
      nodes.push({ p, dir, http: `http://127.0.0.1:${line!.ports.http}`, portal: `https://127.0.0.1:${line!.ports.portal}` });
    }
    const add = await gatehouse(['--config', path.join(nodes[0]!.dir, 'gatehouse.yaml'), 'user', 'add', 'root', '--role', 'admin', '--password-stdin'], {}, 'root-password-1\n');
    expect(add.code, add.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    for (const n of nodes) kill(n.p);
    await Promise.all(nodes.map((n) => n.p.exited(5000).catch(() => {})));
    for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
    await db?.drop();
    await backend?.close();
  });

  let world = 0;
  /** A subscriber, application, keys, published API and subscription, made on A and warmed on B and C. */
  async function setUp() {
    const i = ++world;
    const owner = `sub${i}`;
    await rest('POST', '/users', { username: owner, password: 'subscriber-pw', role: 'subscriber' });
    const app = await rest('POST', '/applications', { name: `app${i}`, owner });
    const keys = await rest('POST', `/applications/${app.id}/keys/PRODUCTION`, {});
    const api = await rest('POST', '/apis', { name: `Api${i}`, context: `/n${i}`, version: 'v1', productionUrl: backend.url, tiers: ['Gold'] });
    await rest('POST', `/apis/${api.id}/publish`);
    const sub = await rest('POST', '/subscriptions', { applicationId: app.id, apiId: api.id, tier: 'Gold' }, `${owner}:subscriber-pw`);
    const auth = { authorization: basic(keys.consumerKey, keys.consumerSecret) };
    const tokens = (await postForm(`${nodes[0]!.http}/token`, { grant_type: 'password', username: owner, password: 'subscriber-pw' }, auth)).json;
    const gw = (n: Node, token = tokens.access_token as string) => call(`${n.http}/n${i}/v1/x`, { headers: { authorization: `Bearer ${token}` } });
    return { i, owner, app, keys, api, sub, auth, tokens, gw };
  }

  it(`a token revoked on A is refused on B and C: ${ROUNDS} rounds, p50/p99 printed`, async () => {
    const w = await setUp();
    const [a, b, c] = nodes as [Node, Node, Node];
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const t = await postForm(`${a.http}/token`, { grant_type: 'client_credentials' }, w.auth);
      expect(t.status).toBe(200);
      for (const n of [b, c]) expect((await w.gw(n, t.json.access_token)).status).toBe(200);
      const revoked = await postForm(`${a.http}/revoke`, { token: t.json.access_token, token_type_hint: 'access_token' }, w.auth);
      expect(revoked.status).toBe(200);
      times.push(await untilAll([b, c], async (n) => (await w.gw(n, t.json.access_token)).status === 401));
    }
    const sorted = [...times].sort((x, y) => x - y);
    const [p50, p99, max] = [percentile(sorted, 0.5), percentile(sorted, 0.99), sorted[sorted.length - 1]!];
    console.log(`three nodes, revocation on A refused on B and C (${ROUNDS} rounds): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    expect(p99).toBeLessThan(SANE_MS);
  });

  it('every kind of management change made on A is in force on B and C within 1 s', async () => {
    const [, b, c] = nodes as [Node, Node, Node];
    const timings: Record<string, number> = {};
    const measure = async (label: string, holds: (n: Node) => Promise<boolean>) => {
      timings[label] = await untilAll([b, c], holds);
      expect(timings[label], label).toBeLessThanOrEqual(SANE_MS);
    };
    const warm = async (w: Awaited<ReturnType<typeof setUp>>) => {
      for (const n of [b, c]) {
        expect((await w.gw(n)).status).toBe(200);
        expect((await postForm(`${n.http}/token`, { grant_type: 'client_credentials' }, w.auth)).status).toBe(200);
      }
    };

    const w = await setUp();
    await warm(w);
    await rest('POST', `/subscriptions/${w.sub.id}/block`);
    await measure('subscription blocked', async (n) => (await w.gw(n)).status === 403);
    await rest('POST', `/applications/${w.app.id}/keys/PRODUCTION/secret`);
    await measure('key secret regenerated', async (n) => (await postForm(`${n.http}/token`, { grant_type: 'client_credentials' }, w.auth)).status === 401);

    const x = await setUp();
    await warm(x);
    await rest('PATCH', `/applications/${x.app.id}`, { tier: 'Trial' });
    // Trial admits one call an hour per node-wide window: in force once a call is refused.
    await measure('application tier', async (n) => (await x.gw(n)).status === 429);
    await rest('POST', `/apis/${x.api.id}/retire`);
    await measure('API retired', async (n) => (await x.gw(n)).status === 404);

    const y = await setUp();
    await warm(y);
    await rest('PATCH', `/users/${y.owner}`, { locked: true });
    await measure('user locked', async (n) => (await y.gw(n)).status === 401);

    const z = await setUp();
    await warm(z);
    await rest('DELETE', `/applications/${z.app.id}`);
    await measure('application deleted', async (n) => (await z.gw(n)).status === 401);

    console.log(`three nodes, management changes on A in force on B and C: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}`);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { KNOWN_MIGRATIONS } from '../../src/store/migrations/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { CLEANUP_LEASE, cleanupTurn } from '../../src/store/cleanup.js';
import { availableKinds, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { call } from '../support/http.js';
import { postgresAvailable } from '../support/services.js';

/**
 * Issue 13 item 4: two nodes starting at once against a fresh PostgreSQL database migrate it once
 * (and make one set of signing keys); the cleanup runs on one node per interval, through a lease
 * in the database; when that node stops, the other takes over.
 */
const SECRET = 'start-and-cleanup-secret-of-at-least-32-chars';
const pg = await postgresAvailable();

interface Captured {
  server: RunningServer;
  events: { event: string; at: number }[];
  dir: string;
}

async function node(db: TestDatabase, name: string): Promise<Captured> {
  const events: Captured['events'] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line.startsWith('{')) continue;
        const l = JSON.parse(line) as { event?: string };
        if (l.event?.startsWith('cleanup_')) events.push({ event: l.event, at: Date.now() });
      }
      done();
    },
  });
  const dir = mkdtempSync(path.join(tmpdir(), `gatehouse-${name}-`));
  const config = loadConfig({}, {}, { dataDir: dir, database: db.database, keys: { secret: SECRET }, cleanup: { intervalSeconds: 1 }, listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 }, log: { level: 'debug' } });
  const server = await startServer(config, { logger: pino({ level: 'debug' }, sink) });
  return { server, events, dir };
}

describe.runIf(pg)('two nodes starting at once on a fresh PostgreSQL database', () => {
  let db: TestDatabase;
  let a: Captured;
  let b: Captured;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    [a, b] = await Promise.all([node(db, 'a'), node(db, 'b')]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([a?.server.close(), b?.server.close()]);
    for (const n of [a, b]) if (n) rmSync(n.dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('migrate it once and make one set of signing keys, which both publish', async () => {
    const k = a.server.store.db.kysely;
    const applied = await sql<{ name: string; n: number }>`select name, count(*)::int as n from kysely_migration group by name order by name`.execute(k);
    expect(applied.rows).toEqual(KNOWN_MIGRATIONS.map((name) => ({ name, n: 1 })));
    expect((await a.server.store.signingKeys.all()).map((r) => r.generation)).toEqual([1, 2]);
    const [ja, jb] = await Promise.all([a, b].map(async (n) => (await call(`http://127.0.0.1:${n.server.ports.http}/.well-known/jwks.json`)).json));
    expect(jb).toEqual(ja);
  });

  it('clean on one node per interval (a lease), and the other takes over when that node stops', async () => {
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 4500));
    const runs = [...a.events.map((e) => ({ ...e, node: 'a' })), ...b.events.map((e) => ({ ...e, node: 'b' }))].filter((e) => e.at >= from && e.event === 'cleanup_run').sort((x, y) => x.at - y.at);
    const skipped = [...a.events, ...b.events].filter((e) => e.at >= from && e.event === 'cleanup_skipped');
    // About one run a second in all, by the node holding the lease; the other node's turns are
    // skipped (if the turn ever passes to the other node, only after an interval without a run).
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < runs.length; i++) if (runs[i]!.node !== runs[i - 1]!.node) expect(runs[i]!.at - runs[i - 1]!.at, JSON.stringify(runs)).toBeGreaterThanOrEqual(900);
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    const holder = runs[runs.length - 1]!.node === 'a' ? a : b;
    const other = holder === a ? b : a;
    await holder.server.close();
    const stoppedAt = Date.now();
    while (!other.events.some((e) => e.at > stoppedAt && e.event === 'cleanup_run') && Date.now() - stoppedAt < 5000) await new Promise((r) => setTimeout(r, 50));
    const tookOver = other.events.find((e) => e.at > stoppedAt && e.event === 'cleanup_run');
    // The stopping node gave its lease up: the other cleans at its next turn (within an interval).
    expect(tookOver?.at ?? Infinity).toBeLessThan(stoppedAt + 2500);
  });
});

const kinds = await availableKinds();
describe.each(kinds)('the cleanup lease (%s)', (kind) => {
  let db: TestDatabase;
  let s1: Store;
  let s2: Store;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const config = loadConfig({}, {}, { dataDir: db.dataDir, database: db.database });
    s1 = await openStore(config);
    s2 = await openStore(config);
  });
  afterAll(async () => {
    await s1?.close();
    await s2?.close();
    await db?.drop();
  });

  it('two nodes taking their turn at the same moment: one cleans; the holder renews; after expiry another may take it', async () => {
    const opts = (holder: string) => ({ intervalSeconds: 10, batchSize: 100, retention: { auditDays: 90, signInOriginDays: 30 }, holder });
    const t0 = Date.now();
    const [r1, r2] = await Promise.all([cleanupTurn(s1, opts('n1'), () => t0), cleanupTurn(s2, opts('n2'), () => t0)]);
    expect([r1, r2].filter((r) => r !== undefined)).toHaveLength(1);
    const winner = r1 !== undefined ? 'n1' : 'n2';
    const loser = winner === 'n1' ? 'n2' : 'n1';
    expect((await s1.leases.holder(CLEANUP_LEASE))?.holder).toBe(winner);
    // Within the interval: the other node is refused, the holder renews.
    expect(await s2.leases.acquire(CLEANUP_LEASE, loser, 10_000, t0 + 14_000)).toBe(false);
    expect(await s1.leases.acquire(CLEANUP_LEASE, winner, 10_000, t0 + 14_000)).toBe(true);
    // Past the renewed expiry (the holder died): the other node takes it.
    expect(await s2.leases.acquire(CLEANUP_LEASE, loser, 10_000, t0 + 24_001)).toBe(true);
    expect((await s2.leases.holder(CLEANUP_LEASE))?.holder).toBe(loser);
    await s2.leases.release(CLEANUP_LEASE, loser);
    expect(await s1.leases.holder(CLEANUP_LEASE)).toBeUndefined();
  });
});

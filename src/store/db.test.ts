import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { DatabaseBusy } from './availability.js';
import { BUSY_BACKOFF_MS, migrate, openDatabase, SERVING_BUSY_TIMEOUT_MS, type BusyInfo, type Db } from './db.js';
import { KNOWN_MIGRATIONS } from './migrations/index.js';
import { SQLITE_FILE } from './permissions.js';

/** Another process's write lock, as the server meets it: a wait bounded by busy_timeout, then DatabaseBusy (503). */
describe('SQLite: another connection holding the write lock', () => {
  const dirs: string[] = [];
  const open: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const fresh = async (): Promise<{ db: Db; file: string; busy: BusyInfo[] }> => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-busy-'));
    dirs.push(dataDir);
    const db = await openDatabase(loadConfig({}, {}, { dataDir }));
    open.push(db);
    await migrate(db);
    const busy: BusyInfo[] = [];
    db.onBusy((i) => busy.push(i));
    return { db, file: path.join(dataDir, SQLITE_FILE), busy };
  };
  /** A second connection (SQLite locks between connections of one process too) in BEGIN IMMEDIATE. */
  const holder = (file: string) => {
    const other = new SqliteDatabase(file, { timeout: 0 });
    open.push(other);
    other.exec('BEGIN IMMEDIATE');
    return other;
  };
  const write = (db: Db) => sql`insert into leases (name, holder, expires_at) values (${`l-${Math.random()}`}, 'x', 1)`.execute(db.kysely);
  const timed = async (p: () => Promise<unknown>): Promise<{ ms: number; err: unknown }> => {
    const t = performance.now();
    const err = await p().then(() => undefined, (e: unknown) => e);
    return { ms: performance.now() - t, err };
  };

  it('a write waits the serving bound (200 ms), not 5 s, then fails as DatabaseBusy; the next ones for a second fail without waiting', async () => {
    const { db, file, busy } = await fresh();
    db.setBusyTimeout(SERVING_BUSY_TIMEOUT_MS);
    const other = holder(file);
    const first = await timed(() => write(db));
    expect(first.err).toBeInstanceOf(DatabaseBusy);
    expect((first.err as DatabaseBusy).status).toBe(503);
    expect((first.err as DatabaseBusy).retryAfterSeconds).toBe(1);
    expect(first.ms).toBeGreaterThanOrEqual(150);
    expect(first.ms).toBeLessThan(1000);
    const second = await timed(() => write(db));
    expect(second.err).toBeInstanceOf(DatabaseBusy);
    expect(second.ms).toBeLessThan(50);
    expect(busy).toEqual([{ code: 'SQLITE_BUSY', waitedMs: 200 }, { code: 'SQLITE_BUSY', waitedMs: 0 }]);
    // Reads are not held up (WAL).
    expect((await sql<{ n: number }>`select count(*) as n from leases`.execute(db.kysely)).rows[0]!.n).toBe(0);
    // The lock released, the next write goes through at once, back-off or not.
    other.exec('COMMIT');
    expect((await timed(() => write(db))).err).toBeUndefined();
  });

  it('after the back-off a write waits again (one bounded wait per second at most while the lock is held)', async () => {
    const { db, file, busy } = await fresh();
    db.setBusyTimeout(100);
    holder(file);
    expect((await timed(() => write(db))).err).toBeInstanceOf(DatabaseBusy);
    await new Promise((r) => setTimeout(r, BUSY_BACKOFF_MS + 50));
    const later = await timed(() => write(db));
    expect(later.err).toBeInstanceOf(DatabaseBusy);
    expect(later.ms).toBeGreaterThanOrEqual(80);
    expect(busy.map((b) => b.waitedMs)).toEqual([100, 100]);
  });

  it('transactions take the write lock when they begin (BEGIN IMMEDIATE): no read-then-write transaction fails on another process\'s commit', async () => {
    const { db, file } = await fresh();
    const other = new SqliteDatabase(file, { timeout: 0 });
    open.push(other);
    await db.kysely.transaction().execute(async (trx) => {
      await sql`select count(*) from leases`.execute(trx);
      // With a deferred BEGIN another connection could commit here and the insert below would
      // fail at once (SQLITE_BUSY_SNAPSHOT); the lock is already ours, so the other one waits.
      expect(() => other.prepare("insert into leases (name, holder, expires_at) values ('other', 'y', 1)").run()).toThrow(/locked/);
      await sql`insert into leases (name, holder, expires_at) values ('mine', 'x', 1)`.execute(trx);
    });
    expect((await sql<{ name: string }>`select name from leases`.execute(db.kysely)).rows).toEqual([{ name: 'mine' }]);
  });

  it('migrations at start wait out another process\'s lock of most of a second (the start-up bound is 5 s)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-busy-'));
    dirs.push(dataDir);
    const file = path.join(dataDir, SQLITE_FILE);
    const prep = new SqliteDatabase(file);
    prep.pragma('journal_mode = WAL');
    prep.close();
    const script = `const D = require('better-sqlite3'); const db = new D(process.argv[1], { timeout: 0 });
      db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 700);`;
    const child = spawn(process.execPath, ['-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout.once('data', r));
    const db = await openDatabase(loadConfig({}, {}, { dataDir }));
    open.push(db);
    const t = performance.now();
    expect(await migrate(db)).toEqual(expect.arrayContaining(KNOWN_MIGRATIONS));
    expect(performance.now() - t).toBeGreaterThan(300);
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
  });
});

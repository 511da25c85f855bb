import type SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery, SqliteDialect, SqliteDriver,
  type DatabaseConnection, type SqliteDatabase as KyselySqliteDatabase, type SqliteStatement,
} from 'kysely';
import { DatabaseBusy, isSqliteBusy } from './availability.js';

/*
 * The server's SQLite connection as kysely sees it: statements compiled once and kept, every
 * statement through the busy wait (another process's write lock: a short wait, then 503), and
 * transactions that take the write lock when they begin.
 */

/** A statement another process's SQLite lock refused: its code, and how long it waited (0 while backing off). */
export interface BusyInfo {
  code: string;
  waitedMs: number;
}

/**
 * How long the server's statements wait for another process's SQLite write lock before they fail
 * as DatabaseBusy (503 with Retry-After: 1). better-sqlite3 is synchronous: the whole event loop
 * waits with the statement (health checks, the gateway, every other request), so the wait is
 * short. 200 ms gives SQLite's busy handler about ten tries (it sleeps 1, 2, 5, 10, 15, 20, 25,
 * 25, 25, 50 ms…), while what other processes write to the file (a CLI command's transaction, a
 * few rows) holds the lock for milliseconds; a holder past 200 ms is someone's open
 * transaction, which no wait we could afford would outlast.
 */
export const SERVING_BUSY_TIMEOUT_MS = 200;
/** The wait of the CLI, and of the server while it starts (migrations): nobody waits on their event loop. */
export const BUSY_TIMEOUT_MS = 5000;
/**
 * After a statement gave up waiting, statements for this long try once without waiting (a lock
 * already released lets them through): while a lock is held, the event loop waits at most one
 * busy timeout per second, however many writes come in. Retry-After says the same second.
 */
export const BUSY_BACKOFF_MS = 1000;

/**
 * The busy wait of one SQLite connection: `busy_timeout`, turned to 0 for BUSY_BACKOFF_MS after
 * a statement gave up, and the translation of another process's lock into DatabaseBusy.
 */
export class BusyWait {
  private waitMs = BUSY_TIMEOUT_MS;
  /** When the back-off ends (ms since the epoch); 0 when not backing off. */
  private backoffUntil = 0;
  private readonly listeners: Array<(info: BusyInfo) => void> = [];

  constructor(private readonly sqlite: SqliteDatabase.Database) {
    this.apply(this.waitMs);
  }

  private apply(ms: number): void {
    this.sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(ms))}`);
  }

  set(ms: number): void {
    this.waitMs = ms;
    if (this.backoffUntil === 0) this.apply(ms);
  }

  onBusy(listener: (info: BusyInfo) => void): void {
    this.listeners.push(listener);
  }

  /** Before each statement (one comparison unless backing off). */
  before(): void {
    if (this.backoffUntil !== 0 && Date.now() >= this.backoffUntil) {
      this.backoffUntil = 0;
      this.apply(this.waitMs);
    }
  }

  /** A statement threw: another process's lock becomes DatabaseBusy (and a back-off); anything else as it is. */
  /** Runs one statement through the wait: a lock of another process becomes DatabaseBusy. */
  guard<T>(statement: () => T): T {
    this.before();
    try {
      return statement();
    } catch (err) {
      return this.failed(err);
    }
  }

  failed(err: unknown): never {
    if (!isSqliteBusy(err)) throw err;
    const code = String((err as { code: unknown }).code);
    const waitedMs = this.backoffUntil === 0 ? this.waitMs : 0;
    if (this.backoffUntil === 0 && this.waitMs > 0) {
      this.backoffUntil = Date.now() + BUSY_BACKOFF_MS;
      this.apply(0);
    }
    for (const l of this.listeners) l({ code, waitedMs });
    throw new DatabaseBusy(`${code}: another process holds the SQLite database's lock`, err);
  }
}

/**
 * Kysely's SQLite driver with `BEGIN IMMEDIATE` transactions: the write lock is taken when the
 * transaction begins, through the busy wait. A deferred `BEGIN` took it at the first write, and
 * when another process had committed since the transaction's first read, SQLite refused at once
 * (SQLITE_BUSY_SNAPSHOT, no wait): a CLI command read, then wrote, and failed with "database is
 * locked" whenever the server committed in between (every few milliseconds under load).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly database: KyselySqliteDatabase) {
    super({ database });
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver({ database: this.database });
  }
}

/**
 * Kysely's SQLite driver calls prepare() for every query, and better-sqlite3 compiles the SQL
 * each time (~10-15 µs). The hot paths run the same few SQL strings over and over, so keep
 * their compiled statements. Safe because better-sqlite3 runs a statement to completion
 * synchronously (nothing here streams with iterate()); the map is bounded.
 */
export function cachingStatements(db: SqliteDatabase.Database, busy: BusyWait, max = 512): KyselySqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  /** Each statement runs through the busy wait (kysely calls prepare, then all or run, at once). */
  const guarded = (stmt: SqliteDatabase.Statement): SqliteStatement => ({
    reader: stmt.reader,
    all: (parameters) => busy.guard(() => stmt.all(parameters)),
    run: (parameters) => busy.guard(() => stmt.run(parameters)),
    iterate: (parameters) => busy.guard(() => stmt.iterate(parameters)),
  });
  return {
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        stmt = guarded(busy.guard(() => db.prepare(sql)));
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close: () => {
      cache.clear();
      db.close();
    },
  };
}

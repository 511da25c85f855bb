import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/schema.js';
import { GatehouseError } from '../errors.js';
import { alwaysUp, classify, DatabaseCircuit } from './availability.js';
import { KNOWN_MIGRATIONS, migrationProvider } from './migrations/index.js';
import { privateDir, privateFile, SQLITE_COMPANIONS, SQLITE_FILE } from './permissions.js';
import type { Database } from './schema/index.js';
import { BusyWait, cachingStatements, ImmediateSqliteDialect, type BusyInfo } from './sqlite-connection.js';

export { BUSY_BACKOFF_MS, BUSY_TIMEOUT_MS, SERVING_BUSY_TIMEOUT_MS, type BusyInfo } from './sqlite-connection.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** Human description for logs: the SQLite path or the PostgreSQL host/database (never a password). */
  describe: string;
  /** The PostgreSQL schema in use, when one is configured. */
  schema?: string;
  /** Pool waits (PostgreSQL): queries waiting for a connection now, and how often one had to. */
  pool(): { waiting: number; waits: number };
  ping(): Promise<void>;
  /** Whether the database is reachable (an in-memory flag; queries fail fast while it is down). */
  circuit: DatabaseCircuit;
  /**
   * Runs `body` while no other process migrates this database: a PostgreSQL advisory lock
   * (per schema) held on a connection of its own; on SQLite, one transaction that takes the
   * write lock when it begins (BEGIN IMMEDIATE), so that a second migrator waits and then sees
   * the first one's work instead of repeating it.
   */
  withMigrationLock<T>(body: (kysely: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * SQLite: how long a statement waits for another process's write lock before it fails as
   * DatabaseBusy (`BUSY_TIMEOUT_MS` until told otherwise; the server sets
   * `SERVING_BUSY_TIMEOUT_MS` once it has started). Nothing on PostgreSQL.
   */
  setBusyTimeout(ms: number): void;
  /** SQLite: every statement refused because another process holds the lock (for the log and the metrics). */
  onBusy(listener: (info: BusyInfo) => void): void;
  close(): Promise<void>;
}


/** The database was migrated by a newer gatehouse: this one must not run against it. */
export class SchemaTooNewError extends GatehouseError {
  override name = 'SchemaTooNewError';
  constructor(message: string) {
    super('conflict', message);
  }
}

// int8 (bigint) columns hold epoch seconds: well inside Number's exact range.
const pgTypes = {
  getTypeParser: (oid: number, format?: string) =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
};

function describePg(url: string, schema?: string): string {
  try {
    const u = new URL(url);
    return `postgresql://${u.hostname}:${u.port || 5432}${u.pathname}${schema ? ` (schema ${schema})` : ''}`;
  } catch {
    return 'postgresql';
  }
}

/**
 * Holds a session-level advisory lock, keyed by the schema, on a connection of its own while
 * `body` runs (the schema is created under it too: two nodes creating it at once would collide).
 */
async function withPgLock<T>(url: string, schema: string | undefined, body: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  const key = `gatehouse:migrate:${schema ?? 'public'}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    return await body();
  } finally {
    // Ending the session releases the lock as well; the unlock only makes it prompt.
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => {});
    await client.end().catch(() => {});
  }
}


/**
 * The pool as Kysely sees it, behind the circuit: while the database is known to be down,
 * connect() fails at once; a connection failure (from connect or a query) becomes
 * DatabaseUnavailable and tells the circuit. Acquire and queries are bounded by the pool's
 * connectionTimeoutMillis and the clients' statement/query timeouts.
 */
function guardedPool(pool: pg.Pool, circuit: DatabaseCircuit): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const fail = (err: unknown): never => {
    throw circuit.translate(err);
  };
  return {
    connect: async () => {
      circuit.check();
      const client = await pool.connect().catch(fail);
      let w = wrapped.get(client);
      if (w === undefined) {
        // A checked-out client whose connection dies emits 'error' (not only its query): its next
        // query fails as unavailable and the pool drops it on release; the event must not crash.
        client.on('error', () => {});
        // A connection whose query timed out or broke is never reused: its server may still be
        // running that query, or be gone.
        let broken = false;
        w = {
          query: ((text: unknown, params?: unknown) =>
            (client.query as (a: unknown, b?: unknown) => Promise<unknown>)(text, params).catch((err: unknown) => {
              if (classify(err) !== undefined) broken = true;
              return fail(err);
            })) as PostgresPoolClient['query'],
          release: (destroy?: boolean) => client.release(destroy || broken),
        };
        wrapped.set(client, w);
      }
      return w;
    },
    end: () => pool.end(),
  };
}

/**
 * Pool waits for the metrics: a connect() with every connection busy waits in the pool's queue
 * (one comparison per connect). Reads the queue's length and the count so far.
 */
function countWaits(pool: pg.Pool, max: number): () => { waiting: number; waits: number } {
  let waits = 0;
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  (pool as { connect: () => Promise<pg.PoolClient> }).connect = () => {
    if (pool.idleCount === 0 && pool.totalCount >= max) waits++;
    return connect();
  };
  return () => ({ waiting: pool.waitingCount, waits });
}

/** Opens the configured database (PostgreSQL when a URL is set, else SQLite in the data dir). */
export async function openDatabase(config: Pick<Config, 'dataDir' | 'database'>): Promise<Db> {
  const { url, schema, poolSize, connectTimeoutMs = 2000, queryTimeoutMs = 10_000 } = config.database;
  if (url) {
    const options = schema ? { options: `-c search_path=${schema}` } : {};
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      types: pgTypes,
      // Bounds the wait for a pooled connection as well as a new connection's handshake.
      connectionTimeoutMillis: connectTimeoutMs,
      // The server cancels a statement at queryTimeoutMs; the client gives up a little later
      // (a server that stopped answering altogether).
      statement_timeout: queryTimeoutMs,
      query_timeout: queryTimeoutMs + 1000,
      keepAlive: true,
      ...options,
    });
    // An idle client's error (server restart) must not crash the process.
    pool.on('error', () => {});
    const poolStats = countWaits(pool, poolSize);
    const circuit = new DatabaseCircuit(async () => {
      const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, query_timeout: connectTimeoutMs });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.query('select 1');
      } finally {
        await probe.end().catch(() => {});
      }
    });
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: guardedPool(pool, circuit) }) });
    return {
      kysely,
      dialect: 'postgres',
      describe: describePg(url, schema),
      ...(schema ? { schema } : {}),
      circuit,
      pool: poolStats,
      ping: async () => {
        await sql`select 1`.execute(kysely);
      },
      withMigrationLock: (body) => withPgLock(url, schema, () => body(kysely)),
      setBusyTimeout: () => {},
      onBusy: () => {},
      close: async () => {
        circuit.close();
        await kysely.destroy();
      },
    };
  }
  // Owner-only: the directory holds the database and the keys (the server logs any tightening).
  privateDir(config.dataDir);
  const file = path.join(config.dataDir, SQLITE_FILE);
  privateFile(file, SQLITE_COMPANIONS);
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  const busy = new BusyWait(sqlite);
  sqlite.pragma('foreign_keys = ON');
  const kysely = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(cachingStatements(sqlite, busy)) });
  return {
    kysely,
    dialect: 'sqlite',
    describe: `sqlite:${file}`,
    circuit: alwaysUp(),
    pool: () => ({ waiting: 0, waits: 0 }),
    ping: async () => {
      await sql`select 1`.execute(kysely);
    },
    setBusyTimeout: (ms) => busy.set(ms),
    onBusy: (listener) => busy.onBusy(listener),
    withMigrationLock: async (body) => {
      // Kysely runs SQLite migrations outside any transaction: hold the write lock across all of
      // them (and make them atomic) on this connection, which nothing else uses at start-up.
      sqlite.exec('BEGIN IMMEDIATE');
      try {
        const result = await body(kysely);
        sqlite.exec('COMMIT');
        return result;
      } catch (err) {
        if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
        throw err;
      }
    },
    close: () => kysely.destroy(),
  };
}

/** The migrations this database has applied, or none when it was never migrated. */
async function appliedMigrations(db: Db, kysely: Kysely<Database>): Promise<string[]> {
  const exists =
    db.dialect === 'sqlite'
      ? await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'kysely_migration'`.execute(kysely)
      : await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = ${db.schema ?? sql`current_schema()`} and table_name = 'kysely_migration'`.execute(kysely);
  if (Number(exists.rows[0]?.n ?? 0) === 0) return [];
  const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(kysely);
  return rows.rows.map((r) => r.name);
}

function refuseNewer(db: Db, applied: string[]): void {
  const unknown = applied.filter((name) => !KNOWN_MIGRATIONS.includes(name));
  if (unknown.length === 0) return;
  throw new SchemaTooNewError(
    `the database ${db.describe} was migrated by a newer gatehouse: it has migration${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, ` +
      `which this version does not know (its latest is ${KNOWN_MIGRATIONS[KNOWN_MIGRATIONS.length - 1]}). Upgrade gatehouse on this node, or point it at a database of its own version`,
  );
}

/**
 * Brings the schema up to date, one process at a time (several nodes starting together migrate
 * once), and refuses a database that a newer version has migrated further than this one knows.
 * Returns the names of the migrations this call applied.
 */
export async function migrate(db: Db): Promise<string[]> {
  // Up to date (every start after the first, every CLI command): no lock to wait for.
  const before = await appliedMigrations(db, db.kysely);
  refuseNewer(db, before);
  if (KNOWN_MIGRATIONS.every((name) => before.includes(name))) return [];
  return db.withMigrationLock(async (kysely) => {
    refuseNewer(db, await appliedMigrations(db, kysely));
    // Areas add their tables independently, so a later-numbered migration may land first.
    // Kysely looks for its migration tables in every schema unless told which one: with several
    // schemas in one database (nodes of several deployments, parallel tests) it would find another
    // schema's and never create its own.
    const migrator = new Migrator({
      db: kysely,
      provider: migrationProvider,
      allowUnorderedMigrations: true,
      ...(db.schema ? { migrationTableSchema: db.schema } : {}),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error');
      throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`);
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  });
}

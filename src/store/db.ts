import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/schema.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema/index.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** Human description for logs: the SQLite path or the PostgreSQL host/database (never a password). */
  describe: string;
  /** The PostgreSQL schema in use, when one is configured. */
  schema?: string;
  ping(): Promise<void>;
  close(): Promise<void>;
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

async function ensurePgSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}

/**
 * Kysely's SQLite driver calls prepare() for every query, and better-sqlite3 compiles the SQL
 * each time (~10-15 µs). The hot paths run the same few SQL strings over and over, so keep
 * their compiled statements. Safe because better-sqlite3 runs a statement to completion
 * synchronously (nothing here streams with iterate()); the map is bounded.
 */
function cachingStatements(db: SqliteDatabase.Database, max = 512): { prepare(sql: string): SqliteDatabase.Statement; close(): void } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        stmt = db.prepare(sql);
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

/** Opens the configured database (PostgreSQL when a URL is set, else SQLite in the data dir). */
export async function openDatabase(config: Pick<Config, 'dataDir' | 'database'>): Promise<Db> {
  const { url, schema, poolSize } = config.database;
  if (url) {
    if (schema) await ensurePgSchema(url, schema);
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      types: pgTypes,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // An idle client's error (server restart) must not crash the process.
    pool.on('error', () => {});
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      kysely,
      dialect: 'postgres',
      describe: describePg(url, schema),
      ...(schema ? { schema } : {}),
      ping: async () => {
        await sql`select 1`.execute(kysely);
      },
      close: () => kysely.destroy(),
    };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const file = path.join(config.dataDir, 'gatehouse.db');
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  return {
    kysely,
    dialect: 'sqlite',
    describe: `sqlite:${file}`,
    ping: async () => {
      await sql`select 1`.execute(kysely);
    },
    close: () => kysely.destroy(),
  };
}

/** Brings the schema up to date; safe to run from several processes at once. */
export async function migrate(db: Db): Promise<void> {
  // Areas add their tables independently, so a later-numbered migration may land first.
  // Kysely looks for its migration tables in every schema unless told which one: with several
  // schemas in one database (nodes of several deployments, parallel tests) it would find another
  // schema's and never create its own.
  const migrator = new Migrator({
    db: db.kysely,
    provider: migrationProvider,
    allowUnorderedMigrations: true,
    ...(db.schema ? { migrationTableSchema: db.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`);
  }
}

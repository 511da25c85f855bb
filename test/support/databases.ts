import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PG_URL, postgresAvailable } from './services.js';

export type DbKind = 'sqlite' | 'postgres';
export const DB_KINDS: DbKind[] = ['sqlite', 'postgres'];

/** A fresh, empty database of one kind: a temp SQLite dir, or a PostgreSQL schema of its own. */
export interface TestDatabase {
  kind: DbKind;
  dataDir: string;
  database: { url?: string; schema?: string };
  drop(): Promise<void>;
}

export async function createTestDatabase(kind: DbKind): Promise<TestDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-test-'));
  if (kind === 'sqlite') {
    return { kind, dataDir, database: {}, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  return {
    kind,
    dataDir,
    database: { url: PG_URL, schema },
    drop: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Whether a database kind can run here (PostgreSQL may be skipped, or required in CI). */
export async function dbAvailable(kind: DbKind): Promise<boolean> {
  return kind === 'sqlite' ? true : postgresAvailable();
}

/** The database kinds to run a suite on: SQLite always, PostgreSQL when reachable (or required). */
export async function availableKinds(): Promise<DbKind[]> {
  return (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];
}

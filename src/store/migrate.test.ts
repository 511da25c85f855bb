import { execFile } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Migrator, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { gatehouse } from '../../test/support/cli.js';
import { availableKinds, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { migrate, openDatabase, SchemaTooNewError, type Db } from './db.js';
import { KNOWN_MIGRATIONS, migrationProvider } from './migrations/index.js';

const kinds = await availableKinds();
const exec = promisify(execFile);

/** A migrator in a process of its own (several nodes starting at once), printing what it applied. */
async function migrateInProcess(tdb: TestDatabase): Promise<string[]> {
  const script = path.join(tdb.dataDir, `migrate-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    `import { openDatabase, migrate } from ${JSON.stringify(path.resolve('dist/store/db.js'))};\n` +
      `const db = await openDatabase(${JSON.stringify({ dataDir: tdb.dataDir, database: { ...tdb.database, poolSize: 2 } })});\n` +
      'try { process.stdout.write(JSON.stringify(await migrate(db))); } finally { await db.close(); }\n',
  );
  const { stdout } = await exec(process.execPath, [script]);
  return JSON.parse(stdout) as string[];
}

async function addFutureMigration(db: Db, name: string): Promise<void> {
  await sql`insert into kysely_migration (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(db.kysely);
}

describe.each(kinds)('migrations on %s', (kind) => {
  const dbs: TestDatabase[] = [];
  const fresh = async () => {
    const t = await createTestDatabase(kind);
    dbs.push(t);
    return t;
  };
  afterAll(async () => {
    for (const t of dbs) await t.drop();
  });

  it('four nodes starting at once on an empty database migrate it once', async () => {
    const tdb = await fresh();
    const applied = await Promise.all([1, 2, 3, 4].map(() => migrateInProcess(tdb)));
    // Every migration was applied by exactly one of them; the others found it done.
    expect(applied.flat().sort()).toEqual([...KNOWN_MIGRATIONS]);
    const db = await openDatabase({ dataDir: tdb.dataDir, database: { ...tdb.database, poolSize: 1 } });
    try {
      expect(await migrate(db)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('0015 drops the lock-out counters kept under plain names and keys them by hash from then on', async () => {
    const tdb = await fresh();
    const db = await openDatabase({ dataDir: tdb.dataDir, database: { ...tdb.database, poolSize: 1 } });
    try {
      const migrator = new Migrator({ db: db.kysely, provider: migrationProvider, allowUnorderedMigrations: true, ...(db.schema ? { migrationTableSchema: db.schema } : {}) });
      const upTo14 = await migrator.migrateTo('0014_user_lookups');
      expect(upTo14.error).toBeUndefined();
      await sql`insert into login_failures (username, failures, window_start) values (${'a password typed as a name'}, 3, 100)`.execute(db.kysely);
      expect(await migrate(db)).toEqual(['0015_login_failures_keyed']);
      expect(await db.kysely.selectFrom('login_failures').selectAll().execute()).toEqual([]);
      await db.kysely.insertInto('login_failures').values({ name_key: 'k', failures: 1, window_start: 1, locked_until: null }).execute();
      expect((await db.kysely.selectFrom('login_failures').select('name_key').execute()).map((r) => r.name_key)).toEqual(['k']);
    } finally {
      await db.close();
    }
  });

  it('refuses a database migrated by a newer version, naming the unknown migration', async () => {
    const tdb = await fresh();
    const db = await openDatabase({ dataDir: tdb.dataDir, database: { ...tdb.database, poolSize: 1 } });
    try {
      await migrate(db);
      await addFutureMigration(db, '0099_from_the_future');
      const err = await migrate(db).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SchemaTooNewError);
      expect((err as Error).message).toBe(
        `the database ${db.describe} was migrated by a newer gatehouse: it has migration 0099_from_the_future, which this version does not know ` +
          `(its latest is ${KNOWN_MIGRATIONS[KNOWN_MIGRATIONS.length - 1]}). Upgrade gatehouse on this node, or point it at a database of its own version`,
      );
    } finally {
      await db.close();
    }
    if (kind !== 'sqlite') return;
    // What the operator sees: one line, a non-zero exit, from start and from any other command.
    for (const args of [['start', '--port-offset', '0'], ['api', 'list']]) {
      const r = await gatehouse(['--data-dir', tdb.dataDir, ...args]);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr.trim().split('\n'), args[0]).toEqual([
        `gatehouse: the database sqlite:${path.join(tdb.dataDir, 'gatehouse.db')} was migrated by a newer gatehouse: it has migration 0099_from_the_future, ` +
          `which this version does not know (its latest is ${KNOWN_MIGRATIONS[KNOWN_MIGRATIONS.length - 1]}). Upgrade gatehouse on this node, or point it at a database of its own version`,
      ]);
    }
  });

  it.runIf(kind === 'sqlite')('creates the data directory 0700 and the database 0600 (with -wal and -shm)', async () => {
    const tdb = await fresh();
    const dataDir = path.join(tdb.dataDir, 'nested', 'data');
    const db = await openDatabase({ dataDir, database: {} });
    try {
      await migrate(db);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      for (const f of ['gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-shm']) expect(statSync(path.join(dataDir, f)).mode & 0o777, f).toBe(0o600);
    } finally {
      await db.close();
    }
  });
});

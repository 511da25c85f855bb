import { GatehouseError } from '../errors.js';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import { privateDir, privateFile, privateIfPresent, SQLITE_COMPANIONS, SQLITE_FILE } from '../store/permissions.js';

/** Another server holds the data directory. */
export class DataDirInUseError extends GatehouseError {
  override name = 'DataDirInUseError';
  constructor(message: string) {
    super('conflict', message);
  }
}

export interface DataDirClaim {
  /** One sentence per permission the claim tightened, for the start-up log. */
  notices: string[];
  /** Lets the next server in (dying does too: the kernel drops the lock with the process). */
  release(): void;
}

const LOCK_FILE = 'gatehouse.lock';
const PID_FILE = 'gatehouse.pid';

function holderPid(dir: string): string | undefined {
  try {
    return readFileSync(path.join(dir, PID_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock on a SQLite file of its own in the data directory: SQLite in EXCLUSIVE
 * locking mode keeps its POSIX lock from the first write until the connection closes or the
 * process dies, and a second server's write fails at once (SQLITE_BUSY). The database itself is
 * not locked, so the CLI's other commands keep working while a server runs.
 */
function lock(dir: string): SqliteDatabase.Database {
  const file = path.join(dir, LOCK_FILE);
  privateFile(file);
  const db = new SqliteDatabase(file, { timeout: 0 });
  try {
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)');
    db.exec('DELETE FROM holder');
    db.prepare('INSERT INTO holder (pid, since) VALUES (?, ?)').run(process.pid, new Date().toISOString());
    db.exec('COMMIT');
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY') || (err as { code?: string }).code === 'SQLITE_LOCKED') {
      const pid = holderPid(dir);
      throw new DataDirInUseError(
        `the data directory ${dir} is in use by another gatehouse server${pid ? ` (pid ${pid})` : ''}: one SQLite data directory serves one node. ` +
          'Stop that server first, or start this one with another --data-dir (nodes that serve together share PostgreSQL: database.url)',
      );
    }
    throw err;
  }
}

/**
 * Makes the data directory the server's own before anything is written to it: owner-only
 * permissions (created 0700 / 0600, or tightened), and on SQLite an exclusive lock.
 */
export function claimDataDir(config: Pick<Config, 'dataDir' | 'database'>): DataDirClaim {
  const dir = config.dataDir;
  const notices = [...privateDir(dir)];
  if (config.database.url) return { notices: [...notices, ...privateKeys(dir)], release: () => {} };
  notices.push(...privateFile(path.join(dir, SQLITE_FILE), SQLITE_COMPANIONS), ...privateKeys(dir));
  const db = lock(dir);
  const pidFile = path.join(dir, PID_FILE);
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  let released = false;
  return {
    notices,
    release: () => {
      if (released) return;
      released = true;
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

/** The key directories and private keys the server keeps in the data directory, where present. */
function privateKeys(dir: string): string[] {
  const subdirs = ['tls', 'keys'].map((sub) => path.join(dir, sub)).filter((d) => existsSync(d));
  return [...subdirs.flatMap((d) => privateDir(d)), ...privateIfPresent([path.join(dir, 'tls', 'key.pem'), path.join(dir, 'keys', 'jwt-signing-key.pem'), path.join(dir, 'keys', 'keys-secret')])];
}

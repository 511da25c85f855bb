import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

/**
 * The data directory holds the database, the TLS key and the JWT signing key: only the user
 * the server runs as may read it. These create what is missing with owner-only modes and
 * tighten what exists, returning one sentence per change so that the server can log it.
 */

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

function tighten(target: string, wanted: number): string | undefined {
  const mode = statSync(target).mode & 0o777;
  if ((mode & ~wanted) === 0) return undefined;
  // Take away what others and the group may do; keep the owner's bits as they are.
  const next = mode & wanted;
  chmodSync(target, next);
  return `tightened permissions of ${target} from ${octal(mode)} to ${octal(next)}`;
}

/** Creates the directory 0700 (with its parents) or tightens it to 0700. */
export function privateDir(dir: string): string[] {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask, which never adds bits: 0700 or tighter.
    return [];
  }
  const change = tighten(dir, 0o700);
  return change ? [change] : [];
}

/**
 * Creates the file 0600 if missing (empty, which SQLite treats as a new database) or tightens
 * it; tightens the companions (-wal, -shm) that exist. SQLite gives companions it creates the
 * database file's mode, so they are born 0600 too.
 */
export function privateFile(file: string, companions: string[] = []): string[] {
  const changes: string[] = [];
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  else {
    const c = tighten(file, 0o600);
    if (c) changes.push(c);
  }
  for (const suffix of companions) {
    const companion = `${file}${suffix}`;
    if (!existsSync(companion)) continue;
    const c = tighten(companion, 0o600);
    if (c) changes.push(c);
  }
  return changes;
}

/** The SQLite database file in a data directory and its write-ahead companions. */
export const SQLITE_FILE = 'gatehouse.db';
export const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'];

/** Tightens the files among these that exist to 0600 (private keys written by older versions). */
export function privateIfPresent(files: string[]): string[] {
  return files.filter((f) => existsSync(f)).flatMap((f) => privateFile(f));
}

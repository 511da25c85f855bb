#!/usr/bin/env node
// SQLite table shape for the token store at size: the table Gatehouse has (a rowid table whose
// text primary key is a separate index, so a lookup by key walks two B-trees) against the same
// columns and indexes as a WITHOUT ROWID table (the rows live in the key's B-tree: one walk,
// but every secondary index entry carries the 53-byte key instead of an 8-byte rowid). N rows
// shaped as load.mjs makes them, with Gatehouse's pragmas and better-sqlite3's 16 MB page
// cache; each file is read once first so that it sits in the OS page cache. Reports the file
// size, CPU µs per lookup of random stored keys (the gateway's cold validation reads one row
// by key) and per insert (50 rows per transaction, like the group commit).
//   node bench/growth/table-shape.mjs [--n 10000000] [--dir DIR]
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

const { values: opt } = parseArgs({ options: { n: { type: 'string', default: '10000000' }, dir: { type: 'string' } } });
const N = Number(opt.n);
const dir = opt.dir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-table-shape-'));
const COLUMNS = `token_hash varchar(64) primary key, grant_id varchar(36) not null, consumer_key varchar(64) not null,
  application_id varchar(36) not null, subject varchar(512) not null, username varchar(255), scope text not null,
  key_type varchar(16) not null, grant_type varchar(128) not null, idp varchar(512), issued_at bigint not null,
  expires_at bigint not null, revoked_at bigint`;
const INDEXES = [
  'create index t_expires_idx on t (expires_at)',
  'create index t_consumer_grant_idx on t (consumer_key, grant_id)',
  'create index t_username_grant_idx on t (username, grant_id) where username is not null',
  'create index t_idp_grant_idx on t (idp, grant_id) where idp is not null',
];
const shapes = [
  { name: 'rowid table + primary key index (Gatehouse now)', suffix: '' },
  { name: 'WITHOUT ROWID', suffix: ' without rowid' },
];
const now = Math.floor(Date.now() / 1000);
const key = (i) => (now - 7200 + Math.floor((i * 3600) / N)).toString(16).padStart(10, '0') + createHash('sha256').update(`${i}`).digest('base64url');
const grant = (i) => `0190${String(i).padStart(12, '0')}-0000-7000-8000-000000000000`.slice(0, 36);
const cpu = (f) => { const c0 = process.cpuUsage(); f(); const c = process.cpuUsage(c0); return c.user + c.system; };
const sample = Array.from({ length: 20000 }, () => Math.floor(Math.random() * N));
const out = [];
for (const s of shapes) {
  const file = path.join(dir, `shape${s.suffix ? '-without-rowid' : ''}.db`);
  rmSync(file, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`create table t (${COLUMNS})${s.suffix}`);
  for (const ix of INDEXES) db.exec(ix);
  const ins = db.prepare("insert into t values (?, ?, 'ck-bench-consumer-key-0000000', 'app-00000000-0000-0000-0000-00000000', 'bench-user', ?, 'default', 'PRODUCTION', ?, null, ?, ?, null)");
  const bulk = db.transaction((from, to) => { for (let i = from; i < to; i++) ins.run(key(i), grant(i), i % 2 ? 'bench-user' : null, i % 2 ? 'password' : 'client_credentials', now - 3600, now + 7200); });
  const t0 = performance.now();
  for (let i = 0; i < N; i += 100_000) bulk(i, Math.min(N, i + 100_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  const loadS = (performance.now() - t0) / 1000;
  execFileSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=4M'], { stdio: 'ignore' });
  const get = db.prepare('select * from t where token_hash = ? and revoked_at is null and expires_at > ?');
  const keys = sample.map(key);
  let found = 0;
  const lookup = cpu(() => { for (const k of keys) if (get.get(k, now)) found++; }) / keys.length;
  if (found !== keys.length) throw new Error(`${s.name}: ${found} of ${keys.length} found`);
  const tx = db.transaction((rows) => { for (const r of rows) ins.run(...r); });
  const rows = Array.from({ length: 10000 }, (_, i) => [(now + 1).toString(16).padStart(10, '0') + randomBytes(32).toString('base64url').slice(0, 43), grant(N + i), null, 'client_credentials', now, now + 3600]);
  const insert = cpu(() => { for (let i = 0; i < rows.length; i += 50) tx(rows.slice(i, i + 50)); }) / rows.length;
  db.close();
  out.push({ shape: s.name, rows: N, fileMB: Math.round(statSync(file).size / 2 ** 20), loadSeconds: Math.round(loadS), lookupCpuUs: Number(lookup.toFixed(1)), insertCpuUs: Number(insert.toFixed(1)) });
  console.log(JSON.stringify(out.at(-1)));
  rmSync(file, { force: true });
  rmSync(`${file}-wal`, { force: true });
  rmSync(`${file}-shm`, { force: true });
}
if (!opt.dir) rmSync(dir, { recursive: true, force: true });

#!/usr/bin/env node
// SQLite pragma micro-bench on a loaded store (made by load.mjs): CPU µs per token lookup (the
// gateway's cold validation query, random stored tokens) and per token insert (random key, one
// transaction per 50 rows like the group commit), for page cache and mmap settings. CPU time
// (process.cpuUsage) rather than wall time, so that other load on the machine matters less.
//   node bench/growth/pragmas.mjs DATA_DIR SAMPLE.json
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { opaqueTokens } from '../../dist/oauth/token-format.js';

const [dir, sampleFile] = process.argv.slice(2);
const sample = JSON.parse(readFileSync(sampleFile, 'utf8')).map((t) => opaqueTokens.key(t)); // the stored key, as the issuer makes it
const settings = [
  { name: 'default (cache 2 MB, no mmap)', pragmas: [] },
  { name: 'cache_size 16 MB', pragmas: ['cache_size = -16384'] },
  { name: 'cache_size 64 MB', pragmas: ['cache_size = -65536'] },
  { name: 'mmap_size 1 GB', pragmas: ['mmap_size = 1073741824'] },
  { name: 'cache 16 MB + mmap 1 GB', pragmas: ['cache_size = -16384', 'mmap_size = 1073741824'] },
];
const cpu = (f) => { const c0 = process.cpuUsage(); const t0 = performance.now(); f(); const c = process.cpuUsage(c0); return { cpu: c.user + c.system, wall: (performance.now() - t0) * 1000 }; };
const out = [];
for (const s of settings) {
  const db = new Database(path.join(dir, 'gatehouse.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const p of s.pragmas) db.pragma(p);
  const q = db.prepare('select t.*, a.name, a.tier, u.username from access_tokens t join applications a on a.id = t.application_id join users u on u.id = a.owner_id where t.token_hash = ? and t.revoked_at is null and t.expires_at > ?');
  const now = Math.floor(Date.now() / 1000);
  const keys = [...sample].sort(() => Math.random() - 0.5).slice(0, 10000);
  let found = 0;
  const look = cpu(() => { for (const k of keys) if (q.get(k, now)) found++; });
  if (found !== keys.length) throw new Error(`only ${found} of ${keys.length} sample tokens found: not this store's sample, or expired (the loader's tokens live 2–3 h)?`);
  const ins = db.prepare("insert into access_tokens (token_hash, grant_id, consumer_key, application_id, subject, username, scope, key_type, grant_type, idp, issued_at, expires_at, revoked_at) values (?, ?, 'ck', 'x', 'ck', null, 'default', 'PRODUCTION', 'client_credentials', null, ?, ?, null)");
  const tx = db.transaction((rows) => { for (const r of rows) ins.run(...r); });
  const rows = Array.from({ length: 10000 }, (_, i) => [randomBytes(32).toString('base64url'), `0190${String(Date.now()).padStart(14, '0')}-${i}`, now, now + 3600]);
  const write = cpu(() => { for (let i = 0; i < rows.length; i += 50) tx(rows.slice(i, i + 50)); });
  const rss = process.memoryUsage().rss / 2 ** 20;
  out.push({ setting: s.name, lookupCpuUs: look.cpu / keys.length, lookupWallUs: look.wall / keys.length, insertCpuUs: write.cpu / rows.length, insertWallUs: write.wall / rows.length, rssMB: rss });
  console.log(JSON.stringify(out.at(-1)));
  db.close();
}

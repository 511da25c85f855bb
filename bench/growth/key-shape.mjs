#!/usr/bin/env node
// Key shape micro-bench (issue 15 item 2): what one token insert costs in a store that already
// holds many tokens, for random keys (SHA-256 of the token, the shape before) against
// time-ordered keys (a time prefix, then the SHA-256: the shape of src/oauth/token-format.ts).
// Rows go in as the issuer's group commit puts them: 50 per transaction. Run it on a store made
// by `load.mjs --key-shape random` (the store a node had before the prefix). Rounds alternate
// the two shapes. SQLite (the store's pragmas: WAL, synchronous NORMAL, the default page cache):
// CPU time (process.cpuUsage) and wall time per row. PostgreSQL: wall time per row and, from
// pg_stat_wal, the WAL bytes and full-page images per row (what the server writes for it).
//   node bench/growth/key-shape.mjs (DATA_DIR | --pg-url URL) [--rows 20000] [--rounds 4]
import { hash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: o, positionals: [dir] } = parseArgs({ allowPositionals: true, options: { rows: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '4' }, tx: { type: 'string', default: '50' }, 'pg-url': { type: 'string' } } });
const ROWS = Number(o.rows);
const TX = Number(o.tx);
const COLS = 'token_hash, grant_id, consumer_key, application_id, subject, username, scope, key_type, grant_type, idp, issued_at, expires_at, revoked_at';

let seq = 0;
const grant = () => `0${String(Date.now()).padStart(15, '0')}-${String(seq++).padStart(12, '0')}-ks`;
const shapes = {
  random: () => hash('sha256', randomBytes(32).toString('base64url'), 'base64url'),
  'time-ordered': () => Math.floor(Date.now() / 1000).toString(16).padStart(10, '0') + hash('sha256', randomBytes(32).toString('base64url'), 'base64url'),
};
const now = Math.floor(Date.now() / 1000);

/** {stored, insert(rows) per transaction, before(), after() -> extra figures, close()} */
async function sqliteTarget() {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path.join(dir, 'gatehouse.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const ins = db.prepare(`insert into access_tokens (${COLS}) values (?, ?, 'ck-key-shape', 'x', 'ck-key-shape', null, 'default', 'PRODUCTION', 'client_credentials', null, ?, ?, null)`);
  const tx = db.transaction((rows) => { for (const r of rows) ins.run(...r); });
  let c0;
  return {
    stored: db.prepare('select count(*) as n from access_tokens').get().n,
    before: () => { db.pragma('wal_checkpoint(TRUNCATE)'); c0 = process.cpuUsage(); },
    insert: async (rows) => tx(rows),
    after: () => { const c = process.cpuUsage(c0); return { cpuUs: (c.user + c.system) / ROWS }; },
    close: async () => { db.exec("delete from access_tokens where consumer_key = 'ck-key-shape'"); db.close(); },
  };
}

async function pgTarget() {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: o['pg-url'] });
  await c.connect();
  const values = Array.from({ length: TX }, (_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, 'ck-key-shape', 'x', 'ck-key-shape', null, 'default', 'PRODUCTION', 'client_credentials', null, $${i * 4 + 3}, $${i * 4 + 4}, null)`).join(', ');
  const wal = async () => (await c.query('select wal_bytes::float8 as b, wal_fpi::float8 as f from pg_stat_wal')).rows[0];
  let w0;
  return {
    stored: Number((await c.query('select count(*) as n from access_tokens')).rows[0].n),
    before: async () => { await c.query('checkpoint'); w0 = await wal(); },
    insert: async (rows) => { await c.query('begin'); await c.query({ name: 'ks-insert', text: `insert into access_tokens (${COLS}) values ${values}`, values: rows.flat() }); await c.query('commit'); },
    after: async () => { const w = await wal(); return { walBytes: (w.b - w0.b) / ROWS, fpi: (w.f - w0.f) / ROWS }; },
    close: async () => { await c.query("delete from access_tokens where consumer_key = 'ck-key-shape'"); await c.end(); },
  };
}

const t = o['pg-url'] ? await pgTarget() : await sqliteTarget();
const res = { random: [], 'time-ordered': [] };
for (let round = 0; round < Number(o.rounds); round++) {
  const order = round % 2 ? ['time-ordered', 'random'] : ['random', 'time-ordered'];
  for (const shape of order) {
    const rows = Array.from({ length: ROWS }, () => [shapes[shape](), grant(), now, now + 3600]);
    await t.before();
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += TX) await t.insert(rows.slice(i, i + TX));
    const r = { wallUs: ((performance.now() - t0) * 1000) / ROWS, ...(await t.after()) };
    res[shape].push(r);
    console.error(`round ${round + 1} ${shape}: ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  }
}
await t.close();
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const summary = (rs) => Object.fromEntries(Object.keys(rs[0]).map((k) => [k, Number(med(rs.map((r) => r[k])).toFixed(2))]));
console.log(JSON.stringify({ db: o['pg-url'] ? 'postgres' : 'sqlite', stored: t.stored, rowsPerRound: ROWS, rowsPerTransaction: TX, random: summary(res.random), timeOrdered: summary(res['time-ordered']) }));

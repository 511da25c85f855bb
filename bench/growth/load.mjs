#!/usr/bin/env node
// Bulk loader for the growth bench: puts N access tokens into a Gatehouse store through the data
// layer (dist/store: openStore → kysely, multi-row INSERTs in large transactions), not HTTP.
// The rows look like a busy node's: one application and consumer key (the bench app, so the
// gateway accepts them), a fresh grant per token (time-ordered ids, as the issuer makes them),
// half of them a user's, live for an hour or more; `--expired` more rows already expired (what
// the cleanup pass must remove). A uniform sample of the raw tokens is written to `--sample-out`
// (the others are stored as random 256-bit values shaped like the key, SHA-256 in base64url).
// Keys are shaped as the issuer makes them (src/oauth/token-format.ts): the second of issue in
// hex, then the SHA-256; `--key-shape random` stores bare SHA-256 keys (the shape before it).
// Live rows are issued in order over the `--span` seconds before `--end` (default now), expired
// ones in the hour before those; a second load into the same store passes the first one's
// `firstIssued` as its `--end`, so its keys go before the first's instead of among them.
//
//   node bench/growth/load.mjs --n 1000000 (--data-dir DIR | --pg-url URL) --app-id ID --consumer-key CK
//        [--username U] [--expired 0] [--sample 50000 --sample-out FILE] [--key-shape time-ordered|random]
// prints one JSON line: {rows, seconds, rowsPerSecond}
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../dist/config/load.js';
import { openStore } from '../../dist/store/index.js';
import { sql } from 'kysely';

const { values: o } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    'data-dir': { type: 'string' },
    'pg-url': { type: 'string' },
    'app-id': { type: 'string' },
    'consumer-key': { type: 'string' },
    username: { type: 'string', default: 'bench-user' },
    expired: { type: 'string', default: '0' },
    sample: { type: 'string', default: '0' },
    'sample-out': { type: 'string' },
    'key-shape': { type: 'string', default: 'time-ordered' },
    span: { type: 'string', default: '3000' },
    end: { type: 'string' },
    'rows-per-insert': { type: 'string' },
    'rows-per-transaction': { type: 'string', default: '50000' },
    /** SQLite only: the loader connection's page cache (MB), instead of the store's setting. */
    'cache-mb': { type: 'string' },
  },
});
const N = Number(o.n);
const EXPIRED = Number(o.expired);
const SAMPLE = Number(o.sample);
const PER_INSERT = Number(o['rows-per-insert'] ?? (o['pg-url'] ? 10000 : 2000));
const PER_TX = Number(o['rows-per-transaction']);
const ORDERED = o['key-shape'] !== 'random';
const SPAN = Number(o.span);
const config = loadConfig({}, {}, { dataDir: o['data-dir'] ?? '/nonexistent', database: o['pg-url'] ? { url: o['pg-url'] } : {}, log: { level: 'warn' } });
const store = await openStore(config);
const db = store.db.kysely;
if (o['cache-mb'] && store.db.dialect === 'sqlite') await sql.raw(`pragma cache_size = -${Number(o['cache-mb']) * 1024}`).execute(db);

const now = Math.floor(Date.now() / 1000);
const END = o.end ? Number(o.end) : now;
const sample = [];
const total = N + EXPIRED;
const pSample = SAMPLE > 0 ? SAMPLE / N : 0;
const t0 = performance.now();
let done = 0;
// One large randomBytes() per 64 k tokens: a call per token costs tens of µs here (a syscall each).
let pool = Buffer.alloc(0);
let at = 0;
const bytes = () => {
  if (at + 32 > pool.length) { pool = randomBytes(32 * 65536); at = 0; }
  at += 32;
  return pool.subarray(at - 32, at);
};

// Time-ordered grant ids like the issuer's (uuidv7), made from the pooled random bytes.
const t0ms = Date.now();
function grantId(i) {
  const b = Buffer.from(bytes().subarray(0, 16));
  b.writeUIntBE(t0ms - (total - i), 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const prefix = (issued) => (ORDERED ? issued.toString(16).padStart(10, '0') : '');

function row(i) {
  const expired = i >= N;
  // Live rows: issued in order over the last SPAN seconds; expired ones in the hour before those.
  const issued = expired ? END - SPAN - 3600 + Math.floor(((i - N) * 3600) / Math.max(1, EXPIRED)) : END - SPAN + Math.floor((i * SPAN) / N);
  let hash;
  if (!expired && pSample > 0 && Math.random() < pSample) {
    const token = prefix(issued) + bytes().toString('base64url');
    sample.push(token);
    hash = prefix(issued) + createHash('sha256').update(token).digest('base64url');
  } else hash = prefix(issued) + bytes().toString('base64url');
  const user = i % 2 === 0;
  return {
    token_hash: hash,
    grant_id: grantId(i),
    consumer_key: o['consumer-key'],
    application_id: o['app-id'],
    subject: user ? o.username : o['consumer-key'],
    username: user ? o.username : null,
    scope: 'default',
    key_type: 'PRODUCTION',
    grant_type: user ? 'password' : 'client_credentials',
    idp: null,
    issued_at: issued,
    expires_at: expired ? issued + 600 : now + 7200 + Math.floor((i * 3600) / N),
    revoked_at: null,
  };
}

const COLUMNS = ['token_hash', 'grant_id', 'consumer_key', 'application_id', 'subject', 'username', 'scope', 'key_type', 'grant_type', 'idp', 'issued_at', 'expires_at', 'revoked_at'];
const PG_TYPES = ['varchar', 'varchar', 'varchar', 'varchar', 'varchar', 'varchar', 'text', 'varchar', 'varchar', 'varchar', 'int8', 'int8', 'int8'];
/**
 * SQLite: multi-row INSERTs of prepared statements. PostgreSQL: one INSERT … SELECT FROM
 * unnest() of a column array each (13 parameters for any number of rows, instead of 13 per
 * row: parsing a multi-row VALUES list is what made the PostgreSQL load slow).
 */
async function insert(trx, rows) {
  if (store.db.dialect === 'sqlite') return trx.insertInto('access_tokens').values(rows).execute();
  const arrays = COLUMNS.map((c, k) => sql`${rows.map((r) => r[c])}::${sql.raw(PG_TYPES[k])}[]`);
  return sql`insert into access_tokens (${sql.join(COLUMNS.map((c) => sql.ref(c)))}) select * from unnest(${sql.join(arrays)})`.execute(trx);
}
if (store.db.dialect === 'postgres') await sql`set synchronous_commit = off`.execute(db);

let lastReport = t0;
while (done < total) {
  const txEnd = Math.min(total, done + PER_TX);
  await db.transaction().execute(async (trx) => {
    // Random keys go in sorted per transaction (each index page is then written once per
    // transaction, not once per row): only the load is faster, the index is the same.
    const rows = [];
    for (let j = done; j < txEnd; j++) rows.push(row(j));
    if (!ORDERED) rows.sort((a, b) => (a.token_hash < b.token_hash ? -1 : 1));
    for (let i = 0; i < rows.length; i += PER_INSERT) await insert(trx, rows.slice(i, i + PER_INSERT));
  });
  done = txEnd;
  if (performance.now() - lastReport > 10_000) {
    lastReport = performance.now();
    process.stderr.write(`loaded ${done}/${total} (${Math.round(done / ((lastReport - t0) / 1000))} rows/s)\n`);
  }
}
const seconds = (performance.now() - t0) / 1000;
if (o['sample-out']) writeFileSync(o['sample-out'], JSON.stringify(sample));
await store.db.close();
process.stdout.write(`${JSON.stringify({ rows: total, seconds, rowsPerSecond: total / seconds, sample: sample.length, firstIssued: END - SPAN - (EXPIRED > 0 ? 3600 : 0) })}\n`);

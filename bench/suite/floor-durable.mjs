// The durable floor: the HTTP floor (bare fastify 5 + formbody answering a random opaque token)
// plus one SQLite insert of the token's SHA-256 per request, with Gatehouse's pragmas (WAL,
// synchronous=NORMAL) and a prepared statement: the least a token service that keeps its tokens
// can do per request on this stack. Forked by the suite; reports {ready, pid, http} over IPC.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import formbody from '@fastify/formbody';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-floor-'));
const db = new Database(join(dir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('create table tokens (token_hash text primary key, client_id text not null, expires_at integer not null)');
const insert = db.prepare('insert into tokens (token_hash, client_id, expires_at) values (?, ?, ?)');

const app = Fastify({ logger: false, bodyLimit: 65536, keepAliveTimeout: 72_000, requestTimeout: 120_000 });
await app.register(formbody, { bodyLimit: 65536 });
app.post('/token', async (request, reply) => {
  if (request.body?.grant_type !== 'client_credentials') return reply.code(400).send({ error: 'unsupported_grant_type' });
  const token = randomBytes(32).toString('base64url');
  insert.run(createHash('sha256').update(token).digest('hex'), 'bench', Math.floor(Date.now() / 1000) + 3600);
  return reply
    .headers({ 'cache-control': 'no-store', pragma: 'no-cache' })
    .send({ access_token: token, token_type: 'Bearer', expires_in: 3600, scope: 'default' });
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.send({ ready: true, pid: process.pid, http: `http://127.0.0.1:${app.server.address().port}` });
const stop = () => app.close().then(() => { db.close(); rmSync(dir, { recursive: true, force: true }); process.exit(0); });
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

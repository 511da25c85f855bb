// The HTTP floor: bench/token/floor-fastify.mjs's app (bare fastify 5 + formbody answering a
// random opaque token, no auth, no storage), forked by the suite with an IPC announcement.
// grant_type=password: the same, after one argon2id verification of the password with
// Gatehouse's parameters (src/crypto/password.ts) on libuv's pool, nothing else: the floor of a
// password grant served over HTTP on this machine.
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 65536, keepAliveTimeout: 72_000, requestTimeout: 120_000 });
await app.register(formbody, { bodyLimit: 65536 });
const ARGON2 = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const PASSWORD = 'bench-password-Correct-Horse-1';
const stored = await hash(PASSWORD, ARGON2);
app.post('/token', async (request, reply) => {
  const grant = request.body?.grant_type;
  if (grant === 'password' && !(await verify(stored, String(request.body.password ?? '')))) return reply.code(400).send({ error: 'invalid_grant' });
  if (grant !== 'client_credentials' && grant !== 'password') return reply.code(400).send({ error: 'unsupported_grant_type' });
  return reply
    .headers({ 'cache-control': 'no-store', pragma: 'no-cache' })
    .send({ access_token: randomBytes(32).toString('base64url'), token_type: 'Bearer', expires_in: 3600, scope: 'default' });
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.send({ ready: true, pid: process.pid, http: `http://127.0.0.1:${app.server.address().port}`, password: PASSWORD });
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

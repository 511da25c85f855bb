// The HTTP floor: bench/token/floor-fastify.mjs's app (bare fastify 5 + formbody answering a
// random opaque token, no auth, no storage), forked by the suite with an IPC announcement.
import { randomBytes } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 65536, keepAliveTimeout: 72_000, requestTimeout: 120_000 });
await app.register(formbody, { bodyLimit: 65536 });
app.post('/token', async (request, reply) => {
  if (request.body?.grant_type !== 'client_credentials') return reply.code(400).send({ error: 'unsupported_grant_type' });
  return reply
    .headers({ 'cache-control': 'no-store', pragma: 'no-cache' })
    .send({ access_token: randomBytes(32).toString('base64url'), token_type: 'Bearer', expires_in: 3600, scope: 'default' });
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.send({ ready: true, pid: process.pid, http: `http://127.0.0.1:${app.server.address().port}` });
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

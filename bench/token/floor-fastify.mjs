// The HTTP floor: a bare fastify 5 app (same options as Gatehouse's listeners, @fastify/formbody)
// whose POST /token returns a fresh random opaque token without any client check or storage.
// What Gatehouse's token endpoint would do if its own work cost nothing. Child of run.mjs:
//   node floor-fastify.mjs <port>   → prints {"port":…}
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
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

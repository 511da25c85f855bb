import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/db.js';

/** Liveness (the process answers) and readiness (the database answers). */
export async function healthRoutes(app: FastifyInstance, opts: { db: Db }): Promise<void> {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (request, reply) => {
    try {
      await opts.db.ping();
      return { status: 'ok', database: opts.db.dialect };
    } catch (err) {
      request.log.warn({ err: { message: (err as Error).message } }, 'readiness check: database unreachable');
      return reply.code(503).send({ status: 'unavailable', database: opts.db.dialect });
    }
  });
}

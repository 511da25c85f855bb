import type { FastifyInstance } from 'fastify';
import { GatehouseError, worthLogging } from '../errors.js';
import type { Db } from '../store/db.js';

/** Liveness (the process answers) and readiness (the database answers, and the node is not stopping). */
export async function healthRoutes(app: FastifyInstance, opts: { db: Db; draining: () => boolean }): Promise<void> {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (request, reply) => {
    // Stopping (SIGTERM): a load balancer takes the node out while it still serves.
    if (opts.draining()) return reply.code(503).send({ status: 'draining', database: opts.db.dialect });
    try {
      await opts.db.ping();
      return { status: 'ok', database: opts.db.dialect };
    } catch (err) {
      // A database outage is logged once by the circuit, not once per probe of the load balancer.
      if (!(err instanceof GatehouseError && !worthLogging(err))) request.log.warn({ err: { message: (err as Error).message } }, 'readiness check: database unreachable');
      return reply.code(503).send({ status: 'unavailable', database: opts.db.dialect });
    }
  });
}

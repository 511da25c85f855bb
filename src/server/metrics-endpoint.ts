import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { repeatsAuthorization } from '../http/repeated-headers.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * GET /metrics: Prometheus text. With `metrics.token`, only for `Authorization: Bearer <token>`
 * (compared in constant time, as SHA-256 digests so the length does not show); anything else
 * is 401 with a Bearer challenge.
 */
export function metricsRoute(app: FastifyInstance, registry: Registry, token: string | undefined): void {
  const expected = token === undefined ? undefined : digest(token);
  app.get('/metrics', async (request, reply) => {
    if (expected !== undefined) {
      // Two Authorization headers are no credential (Node would keep only the first).
      const m = repeatsAuthorization(request.raw.rawHeaders) ? null : /^Bearer ([^\s,]+)$/i.exec(request.headers.authorization ?? '');
      if (m === null || !timingSafeEqual(digest(m[1]!), expected)) {
        return reply
          .code(401)
          .headers({ 'www-authenticate': 'Bearer realm="gatehouse-metrics"', 'cache-control': 'no-store' })
          .type('text/plain; charset=utf-8')
          .send('401 Unauthorized: /metrics needs Authorization: Bearer <metrics.token>\n');
      }
    }
    return reply.header('cache-control', 'no-store').type(registry.contentType).send(await registry.metrics());
  });
}

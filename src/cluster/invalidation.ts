import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TokenEvents, TokenInvalidation } from '../oauth/events.js';

const CHANNEL = 'gatehouse:token-invalidation';

/**
 * Carries token invalidations between nodes over Redis pub/sub: what this node revokes is
 * published, and what another node publishes is replayed on the local bus (where the
 * gateway's validation cache listens). Messages carry only lookup keys and ids (grants, consumer keys, applications, users, IdPs).
 */
export async function connectInvalidationBus(redisUrl: string, events: TokenEvents, log: Logger): Promise<() => Promise<void>> {
  const nodeId = randomUUID();
  const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false } as const;
  const pub = new Redis(redisUrl, options);
  const sub = new Redis(redisUrl, options);
  for (const c of [pub, sub]) c.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'redis (token invalidation) error'));
  await Promise.all([pub.connect(), sub.connect()]);
  let replaying = false;
  sub.on('message', (_channel: string, raw: string) => {
    try {
      const { from, ...msg } = JSON.parse(raw) as { from: string } & TokenInvalidation;
      if (from === nodeId) return;
      replaying = true;
      events.invalidated(msg);
    } catch {
      log.warn('ignored a malformed token invalidation message');
    } finally {
      replaying = false;
    }
  });
  await sub.subscribe(CHANNEL);
  const off = events.onInvalidated((msg) => {
    if (replaying) return;
    pub.publish(CHANNEL, JSON.stringify({ from: nodeId, ...msg })).catch((err: Error) => log.warn({ err: { message: err.message } }, 'could not publish a token invalidation'));
  });
  return async () => {
    off();
    await Promise.allSettled([sub.quit(), pub.quit()]);
  };
}

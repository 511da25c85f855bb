import type { Logger } from 'pino';
import { nowSeconds } from '../clock.js';
import type { Store } from './index.js';

/**
 * Deletes expired tokens in bounded batches (never one huge DELETE that would hold locks or
 * bloat a transaction): batch after batch until a short one, at most `maxBatches` per run.
 */
export async function cleanupExpired(store: Store, batchSize: number, maxBatches = 200): Promise<Record<string, number>> {
  const now = nowSeconds();
  const deleted: Record<string, number> = {};
  for (const table of ['access_tokens', 'refresh_tokens'] as const) {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = await store.tokens.deleteExpiredBatch(table, now, batchSize);
      total += n;
      if (n < batchSize) break;
      await new Promise((r) => setImmediate(r));
    }
    deleted[table] = total;
  }
  let grants = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await store.tokens.deleteIdleGrants(now, batchSize);
    grants += n;
    if (n < batchSize) break;
    await new Promise((r) => setImmediate(r));
  }
  deleted.grants = grants;
  deleted.login_failures = await store.lockout.deleteStale(now, batchSize);
  deleted.saml_assertions = await store.idps.deleteExpiredAssertions(now, batchSize);
  for (const [name, remover] of Object.entries(store.expiring ?? {})) {
    deleted[name] = await remover(now, batchSize);
  }
  return deleted;
}

/** Runs the cleanup every `intervalSeconds`; one run at a time; the timer never keeps the process alive. */
export function scheduleCleanup(store: Store, opts: { intervalSeconds: number; batchSize: number }, log: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    cleanupExpired(store, opts.batchSize)
      .then((deleted) => {
        if (Object.values(deleted).some((n) => n > 0)) log.info({ deleted }, 'expired data removed');
      })
      .catch((err: Error) => log.warn({ err: { message: err.message } }, 'cleanup of expired data failed; will retry'))
      .finally(() => {
        running = false;
      });
  }, opts.intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

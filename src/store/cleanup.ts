import type { Logger } from 'pino';
import { nowSeconds } from '../clock.js';
import type { Store } from './index.js';

/** Deletes at most `batchSize` expired rows of one kind; returns how many went. */
export type BatchRemover = (now: number, batchSize: number) => Promise<number>;

/** A batch should hold the event loop (SQLite deletes run synchronously) about this long at most. */
export const BATCH_TARGET_MS = 10;
const MIN_BATCH = 20;

/**
 * Runs a batch remover until a short batch, yielding between batches: never one huge DELETE
 * that would hold locks or bloat a transaction. The batch size adapts so that one batch takes
 * about {@link BATCH_TARGET_MS}: on SQLite a DELETE blocks the event loop while it runs, and a
 * thousand expired tokens (six index entries each, on random pages of a large table) took
 * 100+ ms, a stall for every request in flight (issuance p99 ×20 during a pass over 150 000
 * expired tokens). It never exceeds `batchSize` and a pass removes at most `maxBatches` ×
 * `batchSize` rows, as before, so the cleanup still keeps up with what expires.
 */
export function inBatches(remove: BatchRemover, maxBatches = 200, targetMs = BATCH_TARGET_MS): BatchRemover {
  return async (now, batchSize) => {
    const maxRows = maxBatches * batchSize;
    let size = Math.min(batchSize, Math.max(MIN_BATCH, Math.floor(batchSize / 4)));
    let total = 0;
    while (total < maxRows) {
      const ask = Math.min(size, maxRows - total);
      const t0 = performance.now();
      const n = await remove(now, ask);
      const ms = performance.now() - t0;
      total += n;
      if (n < ask) break;
      if (ms > 2 * targetMs) size = Math.max(MIN_BATCH, Math.floor(size / 2));
      else if (ms < targetMs / 2) size = Math.min(batchSize, size * 2);
      await new Promise((r) => setImmediate(r));
    }
    return total;
  };
}

/** How long rows that do not expire on their own are kept. */
export interface Retention {
  /** audit events (audit.retentionDays) */
  auditDays: number;
  /** where users signed in from (security.lockout.knownOriginDays) */
  signInOriginDays: number;
}

/** Change-feed rows are kept a day: far longer than any node takes to read them. */
export const CHANGE_RETENTION_SECONDS = 86400;

/** Every kind of expiring row the store keeps, by name, each removed in batches. */
export function expiringRows(store: Store, retention: Retention = { auditDays: 90, signInOriginDays: 30 }): Record<string, BatchRemover> {
  const removers: Record<string, BatchRemover> = {
    access_tokens: (now, n) => store.tokens.deleteExpiredBatch('access_tokens', now, n),
    refresh_tokens: (now, n) => store.tokens.deleteExpiredBatch('refresh_tokens', now, n),
    grants: (now, n) => store.tokens.deleteIdleGrants(now, n),
    login_failures: (now, n) => store.lockout.deleteStale(now, n),
    sign_in_origins: (now, n) => store.lockout.deleteStaleOrigins(now - retention.signInOriginDays * 86400, n),
    saml_assertions: (now, n) => store.idps.deleteExpiredAssertions(now, n),
    authorization_codes: (now, n) => store.codes.deleteExpiredBatch(now, n),
    authorization_requests: (now, n) => store.sessions.deleteExpiredRequests(now, n),
    login_sessions: (now, n) => store.sessions.deleteExpiredSessions(now, n),
    portal_sessions: (now, n) => store.portalSessions.deleteExpired(now, n),
    audit_events: (now, n) => store.audit.deleteOlderThan((now - retention.auditDays * 86400) * 1000, n),
    changes: (now, n) => store.changes.deleteOlderThan(now - CHANGE_RETENTION_SECONDS, n),
  };
  return Object.fromEntries(Object.entries(removers).map(([name, remove]) => [name, inBatches(remove)]));
}

/** One pass over every kind of expiring row; returns how many rows of each went. */
export async function cleanupExpired(store: Store, batchSize: number, retention?: Retention): Promise<Record<string, number>> {
  const now = nowSeconds();
  const deleted: Record<string, number> = {};
  for (const [name, remove] of Object.entries(expiringRows(store, retention))) deleted[name] = await remove(now, batchSize);
  return deleted;
}

/** Runs the cleanup every `intervalSeconds`; one run at a time; the timer never keeps the process alive. */
export function scheduleCleanup(store: Store, opts: { intervalSeconds: number; batchSize: number; retention: Retention }, log: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    cleanupExpired(store, opts.batchSize, opts.retention)
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

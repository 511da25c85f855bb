import type { Logger } from 'pino';
import { nowSeconds } from '../clock.js';
import type { Store } from './index.js';

/** Deletes at most `batchSize` expired rows of one kind; returns how many went. */
export type BatchRemover = (now: number, batchSize: number) => Promise<number>;

/** A batch should hold the event loop (SQLite deletes run synchronously) about this long at most. */
export const BATCH_TARGET_MS = 3;
const MIN_BATCH = 20;
/** After each batch the pass waits this many times as long as the batch took: requests get ≥ 3/4 of the time. */
const PAUSE_FACTOR = 3;

/**
 * Runs a batch remover until a short batch, pausing between batches: never one huge DELETE
 * that would hold locks or bloat a transaction. The batch size adapts so that one batch takes
 * about {@link BATCH_TARGET_MS}: on SQLite a DELETE blocks the event loop while it runs, and a
 * thousand expired tokens (six index entries each, on random pages of a large table) took
 * 100+ ms, a stall for every request in flight (issuance p99 ×20 during a pass over 150 000
 * expired tokens). After each batch the pass waits {@link PAUSE_FACTOR} times the batch's
 * time, so it takes at most a quarter of the node's time (back-to-back 10 ms batches still
 * doubled the issuance p99 of a busy node). It never exceeds `batchSize` and a pass removes at
 * most `maxBatches` × `batchSize` rows (200 000 by default: 150 000 expire in the 5-minute
 * interval at 500 tokens/s), at ~15 000 rows/s on SQLite, so the cleanup keeps up.
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
      await new Promise((r) => setTimeout(r, Math.max(1, ms * PAUSE_FACTOR)));
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

/**
 * One pass over every kind of expiring row; returns how many rows of each went. With `stillHeld`,
 * it checks before each kind that this node still holds the cleanup lease, and stops if not.
 */
export async function cleanupExpired(store: Store, batchSize: number, retention?: Retention, stillHeld?: () => Promise<boolean>): Promise<Record<string, number>> {
  const now = nowSeconds();
  const deleted: Record<string, number> = {};
  for (const [name, remove] of Object.entries(expiringRows(store, retention))) {
    if (stillHeld && !(await stillHeld())) break;
    deleted[name] = await remove(now, batchSize);
  }
  return deleted;
}

/** The lease that makes one node at a time clean (see LeaseStore). */
export const CLEANUP_LEASE = 'cleanup';

export interface CleanupOptions {
  intervalSeconds: number;
  batchSize: number;
  retention: Retention;
  /** This node's name on the lease (unique per process). */
  holder: string;
}

/**
 * One turn of the cleanup: runs only if this node takes (or renews) the cleanup lease, so that of
 * several nodes on one database one cleans per interval. The lease lasts 1.5 intervals, so that a
 * holder whose timer fires late (a busy node) keeps its turn; a node that stops gives it up, and
 * if the holder dies another node takes over once the lease expires (within 2.5 intervals).
 * Returns what was removed, or undefined when another node holds the lease.
 */
export async function cleanupTurn(store: Store, opts: CleanupOptions, now = Date.now): Promise<Record<string, number> | undefined> {
  const ttl = opts.intervalSeconds * 1500;
  if (!(await store.leases.acquire(CLEANUP_LEASE, opts.holder, ttl, now()))) return undefined;
  return cleanupExpired(store, opts.batchSize, opts.retention, () => store.leases.acquire(CLEANUP_LEASE, opts.holder, ttl, now()));
}

/**
 * Runs a cleanup turn every `intervalSeconds`; one run at a time per node, one node per interval
 * (the lease); the timer never keeps the process alive. The returned stop gives the lease up.
 */
export function scheduleCleanup(store: Store, opts: CleanupOptions, log: Logger): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = cleanupTurn(store, opts)
      .then((deleted) => {
        if (deleted === undefined) {
          log.debug({ event: 'cleanup_skipped' }, 'cleanup: another node holds the lease this interval');
          return;
        }
        log.debug({ event: 'cleanup_run', deleted }, 'cleanup ran');
        if (Object.values(deleted).some((n) => n > 0)) log.info({ deleted }, 'expired data removed');
      })
      .catch((err: Error) => log.warn({ err: { message: err.message } }, 'cleanup of expired data failed; will retry'))
      .finally(() => {
        running = undefined;
      });
  }, opts.intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
    await store.leases.release(CLEANUP_LEASE, opts.holder).catch(() => {});
  };
}

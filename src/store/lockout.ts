import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface LockoutPolicy {
  maxFailures: number;
  windowSeconds: number;
  lockSeconds: number;
}

/** The outcome of reserving one password attempt: whether it may be verified, and its counting window. */
export interface AttemptReservation {
  allowed: boolean;
  /** The window the attempt was counted in (its `window_start`): the key to release it on success. */
  window: number;
}

/**
 * Failed-password counters per username, in the database so every node sharing it
 * enforces the same lock. Usernames that do not exist are counted too, so a lock
 * never tells an attacker whether the account exists.
 *
 * An attempt is counted BEFORE its password is verified ({@link reserve}: one atomic
 * upsert), so parallel guesses cannot all slip through while the first ones are still
 * being verified; a success gives back only its own reservation ({@link release}).
 * The counter therefore holds the attempts of the current window that did not succeed
 * (failed or still being verified). Invariant within a window: the name is locked exactly
 * when that count has reached `maxFailures`; the lock then lasts `lockSeconds` (attempts
 * during it are refused and counted, but do not extend it) and a new window starts after it.
 */
export class LockoutStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly policy: LockoutPolicy,
  ) {}

  /**
   * Counts one attempt for the name and says whether it may be verified: only while the
   * name is not locked and the attempt is at most the `maxFailures`-th of the window (the
   * one that reaches the limit sets the lock at once; a success then lifts it again).
   * One INSERT … ON CONFLICT DO UPDATE … RETURNING (SQLite ≥ 3.35 and PostgreSQL): the
   * row lock serializes concurrent attempts, each sees the count including itself.
   */
  async reserve(username: string, now: number): Promise<AttemptReservation> {
    const { maxFailures, windowSeconds, lockSeconds } = this.policy;
    const lockIfFirstLocks = maxFailures <= 1 ? now + lockSeconds : null;
    // A new window starts once the lock has run out, or (unlocked) once the window has.
    const fresh = sql<boolean>`(case when login_failures.locked_until is not null
      then login_failures.locked_until <= ${now}
      else login_failures.window_start + ${windowSeconds} <= ${now} end)`;
    const row = await this.db
      .insertInto('login_failures')
      .values({ username, failures: 1, window_start: now, locked_until: lockIfFirstLocks })
      .onConflict((oc) =>
        oc.column('username').doUpdateSet({
          failures: sql<number>`case when ${fresh} then 1 else login_failures.failures + 1 end`,
          window_start: sql<number>`case when ${fresh} then ${now} else login_failures.window_start end`,
          locked_until: sql<number | null>`case
            when ${fresh} then ${lockIfFirstLocks}
            when login_failures.locked_until is not null then login_failures.locked_until
            when login_failures.failures + 1 >= ${maxFailures} then ${now + lockSeconds}
            else null end`,
        }),
      )
      .returning(['failures', 'window_start', 'locked_until'])
      .executeTakeFirstOrThrow();
    const n = Number(row.failures);
    const locked = row.locked_until != null && Number(row.locked_until) > now;
    // Below the limit only while unlocked; the attempt that reaches the limit set the lock itself.
    const allowed = n < maxFailures ? !locked : n === maxFailures;
    return { allowed, window: Number(row.window_start) };
  }

  /**
   * Gives back a successful attempt's reservation: only its own count, never other attempts
   * counted meanwhile (a failure in flight stays counted). Lifts the lock when the count drops
   * below the limit again (the lock that attempt's own reservation set). Nothing happens when
   * the window has changed since (the reservation is gone with it): windows only move forward.
   */
  async release(username: string, window: number): Promise<void> {
    await this.db
      .updateTable('login_failures')
      .set({
        failures: sql<number>`failures - 1`,
        locked_until: sql<number | null>`case when failures - 1 < ${this.policy.maxFailures} then null else locked_until end`,
      })
      .where('username', '=', username)
      .where('window_start', '=', window)
      .where('failures', '>', 0)
      .execute();
    // A row with nothing counted carries no information: drop it (a concurrent reservation
    // either incremented it first, so it stays, or inserts a fresh one afterwards).
    await this.db.deleteFrom('login_failures').where('username', '=', username).where('failures', '=', 0).execute();
  }

  /** The counter of a name, for tests and operators: failures counted in the window, lock expiry. */
  async get(username: string): Promise<{ failures: number; windowStart: number; lockedUntil: number | null } | undefined> {
    const row = await this.db.selectFrom('login_failures').selectAll().where('username', '=', username).executeTakeFirst();
    return row && { failures: Number(row.failures), windowStart: Number(row.window_start), lockedUntil: row.locked_until == null ? null : Number(row.locked_until) };
  }

  async deleteStale(now: number, batchSize: number): Promise<number> {
    const cutoff = now - this.policy.windowSeconds;
    const victims = this.db
      .selectFrom('login_failures')
      .select('username')
      .where('window_start', '<', cutoff)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .limit(batchSize);
    const res = await this.db.deleteFrom('login_failures').where('username', 'in', victims).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

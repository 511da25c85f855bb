import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface LockoutPolicy {
  maxFailures: number;
  windowSeconds: number;
  lockSeconds: number;
}

/**
 * Failed-password counters per username, in the database so every node sharing it
 * enforces the same lock. Usernames that do not exist are counted too, so a lock
 * never tells an attacker whether the account exists.
 */
export class LockoutStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly policy: LockoutPolicy,
  ) {}

  /** One read: whether the name is locked now, and whether it has failures on record to clear. */
  async status(username: string, now: number): Promise<{ locked: boolean; hasFailures: boolean }> {
    const row = await this.db.selectFrom('login_failures').select(['locked_until']).where('username', '=', username).executeTakeFirst();
    return { locked: row?.locked_until != null && Number(row.locked_until) > now, hasFailures: row !== undefined };
  }

  /** Records a failure; returns true when this failure locked the account. */
  async recordFailure(username: string, now: number): Promise<boolean> {
    const { maxFailures, windowSeconds, lockSeconds } = this.policy;
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('login_failures').selectAll().where('username', '=', username).executeTakeFirst();
      const fresh = !row || Number(row.window_start) + windowSeconds <= now || (row.locked_until != null && Number(row.locked_until) <= now);
      const failures = fresh ? 1 : row.failures + 1;
      const lockedUntil = failures >= maxFailures ? now + lockSeconds : null;
      const values = { failures, window_start: fresh ? now : Number(row.window_start), locked_until: lockedUntil };
      await trx
        .insertInto('login_failures')
        .values({ username, ...values })
        .onConflict((oc) => oc.column('username').doUpdateSet(values))
        .execute();
      return lockedUntil !== null;
    });
  }

  async recordSuccess(username: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('username', '=', username).execute();
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

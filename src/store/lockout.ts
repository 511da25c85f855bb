import { createHmac } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { compile } from './compiled.js';
import type { Database, LoginFailuresTable } from './schema/index.js';

export interface LockoutPolicy {
  maxFailures: number;
  windowSeconds: number;
  lockSeconds: number;
}

/**
 * Failed-password counters per username, in the database so every node sharing it
 * enforces the same lock. Usernames that do not exist are counted too, so a lock
 * never tells an attacker whether the account exists. A row is kept under the name's
 * keyed hash ({@link lockoutKeys}), never the name: what was typed into the username field
 * may be a password, and the database holds it only as a value nobody can check a guess
 * against without the keys secret.
 *
 * Within a window of `windowSeconds`, the `maxFailures`-th failure locks the name for
 * `lockSeconds`; a new window starts once the lock (or, unlocked, the window) has run out.
 * Counting is one atomic upsert, so concurrent failures are never lost. How many guesses
 * may be in flight at once is bounded by the caller ({@link PasswordChecker}).
 */
export class LockoutStore {
  /** Every sign-in reads it: compiled once (src/store/compiled.ts). */
  private readonly statusQuery = compile<LoginFailuresTable>((p) => this.db.selectFrom('login_failures').selectAll().where('name_key', '=', p(0)));

  /**
   * @param keyOf a sign-in name's row key: {@link lockoutKeys} of the keys secret, the same on
   *   every node sharing the database (a node with another secret would count apart).
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly policy: LockoutPolicy,
    readonly keyOf: (username: string) => string,
  ) {}

  /**
   * One read: whether the name is locked now, how many failures count in its current window,
   * and whether a row exists (to clear after a success).
   */
  async status(username: string, now: number): Promise<{ locked: boolean; failures: number; hasFailures: boolean }> {
    const row = (await this.statusQuery.run(this.db, [this.keyOf(username)])).rows[0];
    if (!row) return { locked: false, failures: 0, hasFailures: false };
    const lockedUntil = row.locked_until == null ? null : Number(row.locked_until);
    const expired = lockedUntil !== null ? lockedUntil <= now : Number(row.window_start) + this.policy.windowSeconds <= now;
    return { locked: lockedUntil !== null && lockedUntil > now, failures: expired ? 0 : Number(row.failures), hasFailures: true };
  }

  /**
   * Counts one failure (INSERT … ON CONFLICT DO UPDATE … RETURNING, on SQLite ≥ 3.35 and
   * PostgreSQL: the row lock serializes concurrent failures) and says whether the name is
   * now locked. Failures while locked do not extend the lock.
   */
  async recordFailure(username: string, now: number): Promise<boolean> {
    return (await this.countFailure(username, now)).locked;
  }

  /**
   * {@link recordFailure}, also saying whether this very failure started the lock (exactly one
   * of concurrent failures does: the row lock serializes them, and only one reaches maxFailures).
   */
  async countFailure(username: string, now: number): Promise<{ locked: boolean; started: boolean; lockedUntil: number | null }> {
    const { maxFailures, windowSeconds, lockSeconds } = this.policy;
    const lockIfFirstLocks = maxFailures <= 1 ? now + lockSeconds : null;
    const fresh = sql<boolean>`(case when login_failures.locked_until is not null
      then login_failures.locked_until <= ${now}
      else login_failures.window_start + ${windowSeconds} <= ${now} end)`;
    const row = await this.db
      .insertInto('login_failures')
      .values({ name_key: this.keyOf(username), failures: 1, window_start: now, locked_until: lockIfFirstLocks })
      .onConflict((oc) =>
        oc.column('name_key').doUpdateSet({
          failures: sql<number>`case when ${fresh} then 1 else login_failures.failures + 1 end`,
          window_start: sql<number>`case when ${fresh} then ${now} else login_failures.window_start end`,
          locked_until: sql<number | null>`case
            when ${fresh} then ${lockIfFirstLocks}
            when login_failures.locked_until is not null then login_failures.locked_until
            when login_failures.failures + 1 >= ${maxFailures} then ${now + lockSeconds}
            else null end`,
        }),
      )
      .returning(['locked_until', 'failures'])
      .executeTakeFirstOrThrow();
    const lockedUntil = row.locked_until == null ? null : Number(row.locked_until);
    const locked = lockedUntil !== null && lockedUntil > now;
    return { locked, started: locked && Number(row.failures) === Math.max(1, maxFailures), lockedUntil };
  }

  /** After a successful sign-in: the failures before it no longer count. */
  async clear(username: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('name_key', '=', this.keyOf(username)).execute();
  }

  async deleteStale(now: number, batchSize: number): Promise<number> {
    const cutoff = now - this.policy.windowSeconds;
    const victims = this.db
      .selectFrom('login_failures')
      .select('name_key')
      .where('window_start', '<', cutoff)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .limit(batchSize);
    const res = await this.db.deleteFrom('login_failures').where('name_key', 'in', victims).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Whether the user signed in from one of these origins (hashes) since `since`. */
  async knownOrigin(userId: string, origins: readonly string[], since: number): Promise<boolean> {
    if (origins.length === 0) return false;
    const row = await this.db
      .selectFrom('sign_in_origins')
      .select('origin')
      .where('user_id', '=', userId)
      .where('origin', 'in', origins)
      .where('last_seen', '>=', since)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Records a successful sign-in from an origin (hash). */
  async rememberOrigin(userId: string, origin: string, now: number): Promise<void> {
    await this.db
      .insertInto('sign_in_origins')
      .values({ user_id: userId, origin, last_seen: now })
      .onConflict((oc) => oc.columns(['user_id', 'origin']).doUpdateSet({ last_seen: now }))
      .execute();
  }

  async deleteStaleOrigins(before: number, batchSize: number): Promise<number> {
    const victims = this.db.selectFrom('sign_in_origins').select(['user_id', 'origin']).where('last_seen', '<', before).limit(batchSize);
    const res = await this.db
      .deleteFrom('sign_in_origins')
      .where(sql<boolean>`(user_id, origin) in (${victims})`)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

/**
 * The row key of a sign-in name: base64url HMAC-SHA-256 under a key derived from the keys
 * secret, taken when first needed (`kek` is read once). Names are keyed as typed: the lock is
 * per name as presented, as the sign-in looks users up.
 */
export function lockoutKeys(kek: () => Buffer): (username: string) => string {
  let key: Buffer | undefined;
  return (username) => {
    key ??= createHmac('sha256', kek()).update('gatehouse lockout name v1').digest();
    return createHmac('sha256', key).update(username, 'utf8').digest('base64url');
  };
}

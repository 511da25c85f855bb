import type { Kysely } from 'kysely';
import type { Database } from './schema/index.js';

/**
 * Named leases in the database: a job that must run on one node at a time (the cleanup) is run
 * by whoever holds its lease. Taking a lease is one atomic upsert: it succeeds when no row exists,
 * when the row has expired, or when the caller already holds it (a renewal). Times are epoch ms
 * of the caller's clock: a few seconds of skew between nodes only shifts who runs the next turn.
 */
export class LeaseStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Takes or renews `name` for `holder` until now + ttlMs; false when another holder has it. */
  async acquire(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const res = await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder, expires_at: now + ttlMs })
          .where((eb) => eb.or([eb('leases.expires_at', '<=', now), eb('leases.holder', '=', holder)])),
      )
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Gives the lease up (a node stopping), so that another node need not wait for it to expire. */
  async release(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }

  async holder(name: string): Promise<{ holder: string; expiresAt: number } | undefined> {
    const row = await this.db.selectFrom('leases').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
    return row ? { holder: row.holder, expiresAt: Number(row.expires_at) } : undefined;
  }
}

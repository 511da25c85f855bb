import { sql, type Kysely } from 'kysely';
import type { Database } from './schema/index.js';

/** A row of the change feed: its position, when (epoch s), and what (kind + JSON payload). */
export interface ChangeRow {
  id: number;
  at: number;
  kind: string;
  payload: string;
}

/**
 * The change feed: every management change appends a row in the same transaction as the
 * change itself; every node reads the rows after the last one it applied.
 *
 * Nothing may be skipped by a reader that remembers "the last id I saw": on PostgreSQL a
 * transaction that took id 5 could commit after one that took id 6. So appends take a
 * transaction-scoped advisory lock first, and ids are drawn and committed in one order. On
 * SQLite writers are serialized anyway.
 */
export class ChangeStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  async append(kind: string, payload: unknown, now: number): Promise<void> {
    if (this.dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext(current_schema() || ':gatehouse.changes'))`.execute(this.db);
    }
    await this.db.insertInto('changes').values({ at: now, kind, payload: JSON.stringify(payload) } as never).execute();
  }

  /** Rows after `afterId`, in order, at most `limit`. */
  async after(afterId: number, limit: number): Promise<ChangeRow[]> {
    const rows = await this.db.selectFrom('changes').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ id: Number(r.id), at: Number(r.at), kind: r.kind, payload: r.payload }));
  }

  /** The last row's id (0 when the feed is empty). */
  async lastId(): Promise<number> {
    const row = await this.db.selectFrom('changes').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  /** Deletes at most `batchSize` rows older than `cutoff` (epoch s). */
  async deleteOlderThan(cutoff: number, batchSize: number): Promise<number> {
    const victims = this.db.selectFrom('changes').select('id').where('at', '<', cutoff).limit(batchSize);
    const res = await this.db.deleteFrom('changes').where('id', 'in', victims).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

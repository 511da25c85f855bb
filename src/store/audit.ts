import type { Kysely } from 'kysely';
import { pageOf, type StorePage } from './page.js';
import type { AuditEventsTable, Database } from './schema/index.js';

/** One recorded change: who, what, when (epoch ms), from where; never a secret. */
export interface AuditEvent {
  id: number;
  at: number;
  actor: string;
  actorKind: string;
  via: string;
  address: string | null;
  operation: string;
  targetType: string;
  targetId: string | null;
  detail: Record<string, unknown> | null;
}

const fromRow = (r: AuditEventsTable): AuditEvent => ({
  id: Number(r.id),
  at: Number(r.at),
  actor: r.actor,
  actorKind: r.actor_kind,
  via: r.via,
  address: r.address,
  operation: r.operation,
  targetType: r.target_type,
  targetId: r.target_id,
  detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
});

/** The audit trail, newest first. */
export class AuditStore {
  constructor(private readonly db: Kysely<Database>) {}

  async record(e: Omit<AuditEvent, 'id'>): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        at: e.at,
        actor: e.actor,
        actor_kind: e.actorKind,
        via: e.via,
        address: e.address,
        operation: e.operation,
        target_type: e.targetType,
        target_id: e.targetId,
        detail: e.detail === null ? null : JSON.stringify(e.detail),
      } as never)
      .execute();
  }

  /** Events at or after `since` (epoch ms), newest first, before the id `before`. */
  async list(opts: { since?: number; before?: number; limit: number }): Promise<StorePage<AuditEvent, number>> {
    let q = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(opts.limit + 1);
    if (opts.since !== undefined) q = q.where('at', '>=', opts.since);
    if (opts.before !== undefined) q = q.where('id', '<', opts.before);
    return pageOf((await q.execute()).map(fromRow), opts.limit, (e) => e.id);
  }

  /** Deletes at most `batchSize` events older than `cutoff` (epoch ms). */
  async deleteOlderThan(cutoff: number, batchSize: number): Promise<number> {
    const victims = this.db.selectFrom('audit_events').select('id').where('at', '<', cutoff).limit(batchSize);
    const res = await this.db.deleteFrom('audit_events').where('id', 'in', victims).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

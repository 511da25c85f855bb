import type { Change, ChangeSink } from '../cluster/change.js';
import type { ManagedStores, Store } from '../store/index.js';
import type { Actor } from './actor.js';

/** What one change records in the audit trail: never a secret. */
export interface AuditEntry {
  operation: string;
  targetType: string;
  targetId?: string | null;
  detail?: Record<string, unknown>;
}

export interface Outcome<T> {
  value: T;
  /** What every node must forget. */
  changes?: Change[];
  /** The audit target id when it is known only inside the change (a created resource's id). */
  targetId?: string;
}

/**
 * Makes a management change durable and visible: its writes, its audit event and its
 * change-feed rows commit in one transaction (all or nothing), then this node applies the
 * changes at once; every other node (and a server, when the CLI made the change) applies them
 * from the feed.
 */
export class Recorder {
  constructor(
    private readonly store: Store,
    private readonly sink: ChangeSink,
    private readonly clock: () => number,
  ) {}

  async change<T>(actor: Actor, audit: AuditEntry, body: (tx: ManagedStores) => Promise<Outcome<T>>): Promise<T> {
    const outcome = await this.store.transaction(async (tx) => {
      const out = await body(tx);
      await tx.audit.record({
        at: Date.now(),
        actor: actor.kind === 'cli' ? `cli:${actor.osUser ?? 'unknown'}` : actor.username,
        actorKind: actor.kind,
        via: actor.via,
        address: actor.address ?? null,
        operation: audit.operation,
        targetType: audit.targetType,
        targetId: out.targetId ?? audit.targetId ?? null,
        detail: audit.detail ?? null,
      });
      for (const c of out.changes ?? []) await tx.changes.append(c.kind, c, this.clock());
      return out;
    });
    for (const c of outcome.changes ?? []) this.sink(c);
    return outcome.value;
  }

  /**
   * Publishes changes that follow work done outside the transaction (bulk revocations run in
   * batches of their own, and their invalidation must go out only once they have committed).
   */
  async publish(changes: Change[]): Promise<void> {
    if (changes.length === 0) return;
    await this.store.transaction(async (tx) => {
      for (const c of changes) await tx.changes.append(c.kind, c, this.clock());
    });
    for (const c of changes) this.sink(c);
  }
}

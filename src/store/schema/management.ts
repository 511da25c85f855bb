import type { Epoch } from './common.js';

/** Who changed what, when and from where (migration 0008); never a secret. */
export interface AuditEventsTable {
  id: number;
  /** epoch milliseconds */
  at: number;
  actor: string;
  /** 'user' (a signed-in user) or 'cli' (an operator on the node's machine). */
  actor_kind: string;
  via: string;
  address: string | null;
  operation: string;
  target_type: string;
  target_id: string | null;
  /** JSON object of what changed. */
  detail: string | null;
}

/** The change feed every node follows (migration 0008). */
export interface ChangesTable {
  id: number;
  at: Epoch;
  kind: string;
  /** JSON of the change. */
  payload: string;
}

/** A developer portal sign-in (migration 0009). */
export interface PortalSessionsTable {
  id: string;
  token_hash: string;
  csrf_token: string;
  user_id: string;
  /** Encrypted: what the next page shows once. */
  flash: string | null;
  created_at: Epoch;
  expires_at: Epoch;
}

export interface ManagementTables {
  audit_events: AuditEventsTable;
  changes: ChangesTable;
  portal_sessions: PortalSessionsTable;
}

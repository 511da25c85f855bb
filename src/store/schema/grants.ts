import type { Epoch } from './common.js';

/** Grant lock rows (migration 0005). */
/** A grant (lineage) that was rotated or revoked: the per-grant lock and revocation mark. */
export interface GrantsTable {
  id: string;
  revoked_at: Epoch | null;
  updated_at: Epoch;
}

export interface GrantTables {
  grants: GrantsTable;
}

/** True when a write failed on a UNIQUE / PRIMARY KEY constraint (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A store-level refusal that callers turn into a clear message (CLI) or a 4xx (HTTP). */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';
}

export class StoreNotFound extends Error {
  override readonly name = 'StoreNotFound';
}


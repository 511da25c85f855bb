import type { Kysely } from 'kysely';

/**
 * Drops the indexes on grant_id alone: revoking a grant names its consumer key too and uses the
 * (consumer_key, grant_id) index that revoking a key's tokens needs anyway (0007), so every
 * token insert maintains one index fewer.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['access_tokens', 'refresh_tokens']) await db.schema.dropIndex(`${table}_grant_idx`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['access_tokens', 'refresh_tokens']) await db.schema.createIndex(`${table}_grant_idx`).on(table).column('grant_id').execute();
}

import { sql, type Kysely } from 'kysely';

/**
 * Indexes for revoking every token of an owner at once (a consumer key, a local user, an
 * identity provider), each ending in grant_id so the revocation pages through grants in
 * order. The user and IdP indexes are partial: only tokens that have one pay for them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['access_tokens', 'refresh_tokens']) {
    await db.schema.createIndex(`${table}_consumer_grant_idx`).on(table).columns(['consumer_key', 'grant_id']).execute();
    await db.schema.createIndex(`${table}_username_grant_idx`).on(table).columns(['username', 'grant_id']).where(sql.ref('username'), 'is not', null).execute();
    await db.schema.createIndex(`${table}_idp_grant_idx`).on(table).columns(['idp', 'grant_id']).where(sql.ref('idp'), 'is not', null).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['access_tokens', 'refresh_tokens']) {
    for (const what of ['consumer', 'username', 'idp']) await db.schema.dropIndex(`${table}_${what}_grant_idx`).execute();
  }
}

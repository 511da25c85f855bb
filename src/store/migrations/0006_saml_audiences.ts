import type { Kysely } from 'kysely';

/**
 * The audiences an IdP's assertions may name (RFC 7522 §3 item 2), as a JSON array of URIs.
 * NULL (every IdP registered before) means none registered: the alias, else the defaults.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('saml_idps').addColumn('audiences', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('saml_idps').dropColumn('audiences').execute();
}

import type { Kysely } from 'kysely';

/** Trusted SAML identity providers, and assertion IDs already exchanged (replay cache). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('saml_idps')
    .addColumn('issuer', 'varchar(512)', (c) => c.primaryKey())
    .addColumn('alias', 'varchar(512)')
    .addColumn('certificates', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('saml_assertions')
    .addColumn('issuer', 'varchar(512)', (c) => c.notNull())
    .addColumn('assertion_id', 'varchar(256)', (c) => c.notNull())
    .addColumn('not_on_or_after', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('saml_assertions_pk', ['issuer', 'assertion_id'])
    .execute();
  await db.schema.createIndex('saml_assertions_expiry_idx').on('saml_assertions').column('not_on_or_after').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('saml_assertions').execute();
  await db.schema.dropTable('saml_idps').execute();
}

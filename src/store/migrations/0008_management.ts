import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';

const isSqlite = (db: Kysely<any>): boolean => db.getExecutor().adapter.constructor.name === 'SqliteAdapter';

/**
 * The management plane: a user can be locked; APIs and applications get what the portal shows
 * and edits (description, CORS origins, the resource-server flag); identity providers an id
 * for the admin API; the audit trail; and the change feed every node follows (a change made
 * anywhere reaches every node's caches).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const serial = isSqlite(db) ? 'integer' : 'bigserial';
  const idColumn = isSqlite(db)
    ? (t: any) => t.addColumn('id', 'integer', (c: any) => c.primaryKey().autoIncrement())
    : (t: any) => t.addColumn('id', serial, (c: any) => c.primaryKey());

  await db.schema.alterTable('users').addColumn('locked_at', 'bigint').execute();
  await db.schema.alterTable('apis').addColumn('description', 'text').execute();
  await db.schema.alterTable('applications').addColumn('allowed_origins', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('applications').addColumn('introspect_all', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema.alterTable('saml_idps').addColumn('id', 'varchar(36)').execute();
  for (const row of await db.selectFrom('saml_idps').select('issuer').execute()) {
    await db.updateTable('saml_idps').set({ id: randomUUID() }).where('issuer', '=', row.issuer).execute();
  }
  await db.schema.createIndex('saml_idps_id_uq').on('saml_idps').column('id').unique().execute();

  await idColumn(db.schema.createTable('audit_events'))
    .addColumn('at', 'bigint', (c: any) => c.notNull())
    .addColumn('actor', 'varchar(255)', (c: any) => c.notNull())
    .addColumn('actor_kind', 'varchar(16)', (c: any) => c.notNull())
    .addColumn('via', 'varchar(16)', (c: any) => c.notNull())
    .addColumn('address', 'varchar(64)')
    .addColumn('operation', 'varchar(64)', (c: any) => c.notNull())
    .addColumn('target_type', 'varchar(32)', (c: any) => c.notNull())
    .addColumn('target_id', 'varchar(512)')
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('audit_events_at_idx').on('audit_events').column('at').execute();

  await idColumn(db.schema.createTable('changes'))
    .addColumn('at', 'bigint', (c: any) => c.notNull())
    .addColumn('kind', 'varchar(32)', (c: any) => c.notNull())
    .addColumn('payload', 'text', (c: any) => c.notNull())
    .execute();
  await db.schema.createIndex('changes_at_idx').on('changes').column('at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('changes').execute();
  await db.schema.dropTable('audit_events').execute();
  await db.schema.dropIndex('saml_idps_id_uq').execute();
  await db.schema.alterTable('saml_idps').dropColumn('id').execute();
  await db.schema.alterTable('applications').dropColumn('introspect_all').execute();
  await db.schema.alterTable('applications').dropColumn('allowed_origins').execute();
  await db.schema.alterTable('apis').dropColumn('description').execute();
  await db.schema.alterTable('users').dropColumn('locked_at').execute();
}

import type { Kysely } from 'kysely';

/** Published APIs and applications' subscriptions to them. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('apis')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('context', 'varchar(255)', (c) => c.notNull())
    .addColumn('version', 'varchar(64)', (c) => c.notNull())
    .addColumn('production_url', 'text', (c) => c.notNull())
    .addColumn('sandbox_url', 'text')
    .addColumn('tiers', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('timeout_ms', 'integer')
    .addColumn('send_jwt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('apis_context_version_uq', ['context', 'version'])
    .addUniqueConstraint('apis_name_version_uq', ['name', 'version'])
    .execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('application_id', 'varchar(36)', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull().references('apis.id').onDelete('cascade'))
    .addColumn('tier', 'varchar(64)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('subscriptions_app_api_uq', ['application_id', 'api_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('subscriptions').execute();
  await db.schema.dropTable('apis').execute();
}

import type { Kysely } from 'kysely';

/** Users, applications, consumer keys, tokens and the login lock-out counters. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('username', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('applications')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('tier', 'varchar(64)', (c) => c.notNull())
    .addColumn('callback_urls', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('applications_owner_name_uq', ['owner_id', 'name'])
    .execute();

  await db.schema
    .createTable('consumer_keys')
    .addColumn('consumer_key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('application_id', 'varchar(36)', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('key_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('secret_hash', 'varchar(64)')
    .addColumn('validity_seconds', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('consumer_keys_app_type_uq', ['application_id', 'key_type'])
    .execute();

  for (const table of ['access_tokens', 'refresh_tokens'] as const) {
    let t = db.schema
      .createTable(table)
      .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('grant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('consumer_key', 'varchar(64)', (c) => c.notNull())
      .addColumn('application_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('subject', 'varchar(512)', (c) => c.notNull())
      .addColumn('username', 'varchar(255)')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('key_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('grant_type', 'varchar(128)', (c) => c.notNull())
      .addColumn('idp', 'varchar(512)')
      .addColumn('issued_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint');
    if (table === 'refresh_tokens') t = t.addColumn('consumed_at', 'bigint');
    await t.execute();
    await db.schema.createIndex(`${table}_grant_idx`).on(table).column('grant_id').execute();
    await db.schema.createIndex(`${table}_expires_idx`).on(table).column('expires_at').execute();
  }

  await db.schema
    .createTable('login_failures')
    .addColumn('username', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['login_failures', 'refresh_tokens', 'access_tokens', 'consumer_keys', 'applications', 'users']) {
    await db.schema.dropTable(t).execute();
  }
}

import type { Kysely } from 'kysely';

/** Authorization code grant: codes, browser sign-in sessions, pending requests, remembered consents. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('authorization_codes')
    .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('grant_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('consumer_key', 'varchar(64)', (c) => c.notNull())
    .addColumn('application_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('redirect_uri_sent', 'integer', (c) => c.notNull())
    .addColumn('code_challenge', 'varchar(128)')
    .addColumn('code_challenge_method', 'varchar(16)')
    .addColumn('subject', 'varchar(512)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('authorization_codes_expires_idx').on('authorization_codes').column('expires_at').execute();

  await db.schema
    .createTable('login_sessions')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(36)', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('username', 'varchar(255)')
    .addColumn('authenticated_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('login_sessions_expires_idx').on('login_sessions').column('expires_at').execute();

  await db.schema
    .createTable('authorization_requests')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('session_id', 'varchar(36)', (c) => c.notNull().references('login_sessions.id').onDelete('cascade'))
    .addColumn('consumer_key', 'varchar(64)', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('redirect_uri_sent', 'integer', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('state', 'text')
    .addColumn('code_challenge', 'varchar(128)')
    .addColumn('code_challenge_method', 'varchar(16)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('authorization_requests_session_idx').on('authorization_requests').column('session_id').execute();
  await db.schema.createIndex('authorization_requests_expires_idx').on('authorization_requests').column('expires_at').execute();

  await db.schema
    .createTable('consents')
    .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('application_id', 'varchar(36)', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('consents_pk', ['user_id', 'application_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['consents', 'authorization_requests', 'login_sessions', 'authorization_codes']) {
    await db.schema.dropTable(t).execute();
  }
}

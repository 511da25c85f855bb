import type { Kysely } from 'kysely';

/**
 * Where each user has signed in successfully lately: SHA-256 of the user id and the client
 * address or login session (not the address in clear), per user. A name locked by someone else's
 * guesses still signs in from these (see PasswordChecker).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sign_in_origins')
    .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('origin', 'varchar(64)', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sign_in_origins_pk', ['user_id', 'origin'])
    .execute();
  await db.schema.createIndex('sign_in_origins_seen_idx').on('sign_in_origins').column('last_seen').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sign_in_origins').execute();
}

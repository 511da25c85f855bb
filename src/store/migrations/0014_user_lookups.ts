import { sql, type Kysely } from 'kysely';

/**
 * Two lookups by user that no index served:
 * - login_sessions by user_id: locking a user or changing their password ends their sign-in
 *   sessions (and deleting a user cascades to them) without reading the whole table;
 * - users by lower(username): a new account whose name differs from an existing one only in
 *   case is refused (not unique: a store may already hold such pairs, which stay).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('login_sessions_user_idx').on('login_sessions').column('user_id').execute();
  await db.schema.createIndex('users_username_lower_idx').on('users').expression(sql`lower(username)`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_username_lower_idx').execute();
  await db.schema.dropIndex('login_sessions_user_idx').execute();
}

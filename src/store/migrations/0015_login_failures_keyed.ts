import type { Kysely } from 'kysely';

/**
 * The lock-out counters are kept under a keyed hash of the sign-in name (LockoutStore), not the
 * name: names nobody has are counted too, and what someone typed into the username field may be
 * a password. The rows kept under plain names go (they are counters of the current window only:
 * at most a lock-out's length of failures is forgotten by an upgrade).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('login_failures').execute();
  await db.schema.alterTable('login_failures').renameColumn('username', 'name_key').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('login_failures').execute();
  await db.schema.alterTable('login_failures').renameColumn('name_key', 'username').execute();
}

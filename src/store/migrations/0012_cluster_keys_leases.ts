import type { Kysely } from 'kysely';

/**
 * What the nodes of one cluster share besides the data: the JWT signing keys (one identity per
 * cluster; private halves encrypted with the operator's key-encryption secret, never in clear)
 * and leases (a named job, such as the cleanup, held by one node at a time until it expires).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    // 1, 2, 3…: one per key ever made; the primary key makes two nodes (or two rotations) racing
    // for the same generation collide, so exactly one wins.
    .addColumn('generation', 'integer', (c) => c.primaryKey())
    .addColumn('kid', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('alg', 'varchar(16)', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    /** AES-256-GCM of the PKCS#8 PEM under the key-encryption secret (see src/crypto/key-wrap.ts). */
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    /** When it began signing; null while it is the published "next" key. */
    .addColumn('signs_from', 'bigint')
    /** When it leaves the JWKS (set when a rotation retires it); null: published. */
    .addColumn('published_until', 'bigint')
    .execute();
  await db.schema
    .createTable('leases')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('holder', 'varchar(128)', (c) => c.notNull())
    /** epoch milliseconds */
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('leases').execute();
  await db.schema.dropTable('signing_keys').execute();
}

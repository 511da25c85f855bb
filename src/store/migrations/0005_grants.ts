import type { Kysely } from 'kysely';

/**
 * One row per grant (token lineage) that has been rotated or revoked, created lazily: a lock
 * that orders a refresh-token rotation and a revocation of the same grant (PostgreSQL), and the
 * revocation mark. Token issue writes nothing here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('grants')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('revoked_at', 'bigint')
    // Last time a rotation or revocation took the lock: idle rows are removed by the cleanup.
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('grants_updated_idx').on('grants').column('updated_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('grants').execute();
}

import pg from 'pg';

/**
 * Tests that need PostgreSQL or Redis run when the service answers. Without it they are
 * skipped with a printed reason, unless GATEHOUSE_REQUIRE_SERVICES=1 (CI), where a missing
 * service fails the run instead.
 */
export const REQUIRE_SERVICES = process.env.GATEHOUSE_REQUIRE_SERVICES === '1';
export const PG_URL = process.env.GATEHOUSE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function pgReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

let pgState: Promise<string | undefined> | undefined;

/** Resolves true when PostgreSQL can be used; fails or skips (with a reason) otherwise. */
export async function postgresAvailable(): Promise<boolean> {
  pgState ??= pgReachable();
  const problem = await pgState;
  if (problem === undefined) return true;
  const msg = `PostgreSQL at ${PG_URL} is not reachable (${problem})`;
  if (REQUIRE_SERVICES) throw new Error(`${msg}, and GATEHOUSE_REQUIRE_SERVICES=1 requires it`);
  console.warn(`SKIP: ${msg}; PostgreSQL tests skipped`);
  return false;
}

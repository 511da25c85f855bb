import { loadConfig } from '../../src/config/load.js';
import type { KeyType } from '../../src/types.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type DbKind, type TestDatabase } from './databases.js';
import { cliActor } from '../../src/manage/index.js';

/** Tests set up their data as an operator does: through the management service, as the CLI's admin. */
export const admin = cliActor('test');

export interface TestServer {
  server: RunningServer;
  db: TestDatabase;
  /** https://127.0.0.1:<gateway https port> */
  https: string;
  /** http://127.0.0.1:<gateway http port> */
  http: string;
  portal: string;
  close(): Promise<void>;
}

/**
 * The key-encryption secret test nodes use: a second node on the same database (with a data
 * directory of its own) needs the same one to open the cluster's signing keys.
 */
export const TEST_KEYS_SECRET = 'test-nodes-share-this-keys-secret-0123456789';

/** Starts a real node (all three listeners on free ports) on a fresh database of one kind. */
export async function startTestServer(kind: DbKind, overrides: Record<string, unknown> = {}, opts: { log?: (line: string) => void } = {}): Promise<TestServer> {
  const db = await createTestDatabase(kind);
  const config = loadConfig({}, {}, {
    dataDir: db.dataDir,
    listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 },
    log: { level: process.env.GATEHOUSE_TEST_LOG_LEVEL ?? 'silent' },
    keys: { secret: TEST_KEYS_SECRET },
    ...overrides,
    // Database settings (a pool size) go with the test database, not instead of it.
    database: { ...db.database, ...(overrides.database as object | undefined) },
  });
  const server = await startServer(config, { logger: createLogger(config.log.level, false, opts.log ? { write: opts.log } : undefined) });
  return {
    server,
    db,
    https: `https://127.0.0.1:${server.ports.https}`,
    http: `http://127.0.0.1:${server.ports.http}`,
    portal: `https://127.0.0.1:${server.ports.portal}`,
    close: async () => {
      await server.close();
      await db.drop();
    },
  };
}

export interface TestClient {
  consumerKey: string;
  consumerSecret: string;
  keyType: KeyType;
  applicationId: string;
}

/** Creates a user through the management service (its password policy applies). */
export async function addUser(s: TestServer, username: string, password = 'correct horse', role: 'subscriber' | 'publisher' | 'admin' = 'subscriber'): Promise<void> {
  await s.server.management.users.create(admin, { username, password, role });
}

/** Creates a user (if needed), an application and its keys, as the CLI does. */
export async function createClient(
  s: TestServer,
  opts: { owner?: string; password?: string; app?: string; keyType?: KeyType; validity?: number; callbackUrls?: string[]; publicClient?: boolean } = {},
): Promise<TestClient> {
  const m = s.server.management;
  const owner = opts.owner ?? 'alice';
  if (!(await s.server.store.users.findByUsername(owner))) await addUser(s, owner, opts.password ?? 'correct horse');
  const name = opts.app ?? `app-${Math.random().toString(36).slice(2, 8)}`;
  const app =
    (await s.server.store.applications.find(owner, name)) ??
    (await m.applications.create(admin, { owner, name, callbackUrls: opts.callbackUrls ?? [] }));
  const keys = await m.keys.generate(admin, app.id, opts.keyType ?? 'PRODUCTION', {
    ...(opts.validity !== undefined ? { validitySeconds: opts.validity } : {}),
    public: Boolean(opts.publicClient),
  });
  return { consumerKey: keys.consumerKey, consumerSecret: keys.consumerSecret ?? '', keyType: keys.keyType, applicationId: app.id };
}

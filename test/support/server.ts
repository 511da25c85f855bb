import { loadConfig } from '../../src/config/load.js';
import type { KeyType } from '../../src/store/schema.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type DbKind, type TestDatabase } from './databases.js';

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

/** Starts a real node (all three listeners on free ports) on a fresh database of one kind. */
export async function startTestServer(kind: DbKind, overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const db = await createTestDatabase(kind);
  const config = loadConfig({}, {}, {
    dataDir: db.dataDir,
    database: db.database,
    listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 },
    log: { level: process.env.GATEHOUSE_TEST_LOG_LEVEL ?? 'silent' },
    ...overrides,
  });
  const server = await startServer(config, { logger: createLogger(config.log.level) });
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

/** Creates a user (if needed), an application and its keys, as the CLI does. */
export async function createClient(
  s: TestServer,
  opts: { owner?: string; password?: string; app?: string; keyType?: KeyType; validity?: number; callbackUrls?: string[]; publicClient?: boolean } = {},
): Promise<TestClient> {
  const store = s.server.store;
  const owner = opts.owner ?? 'alice';
  if (!(await store.users.findByUsername(owner))) await store.users.create(owner, opts.password ?? 'correct horse', 'subscriber');
  const name = opts.app ?? `app-${Math.random().toString(36).slice(2, 8)}`;
  const app = (await store.applications.find(owner, name)) ?? (await store.applications.create({ ownerUsername: owner, name, tier: 'Unlimited', callbackUrls: opts.callbackUrls ?? [] }));
  const keys = await store.applications.ensureKeys(app.id, opts.keyType ?? 'PRODUCTION', { validitySeconds: opts.validity, publicClient: opts.publicClient });
  return { consumerKey: keys.consumerKey, consumerSecret: keys.consumerSecret ?? '', keyType: keys.keyType, applicationId: app.id };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE } from '../../src/store/permissions.js';
import { startBackend, type TestBackend } from '../gateway/support/servers.js';
import { gatehouse } from '../support/cli.js';
import { basic, call, postForm } from '../support/http.js';
import { LogCapture, scrape } from '../support/log-capture.js';
import { addUser, admin, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

/**
 * Another process holding SQLite's write lock on a node's database (the `gatehouse` CLI, an
 * operator's sqlite3 shell): the node's blocked writes answer 503 at once, and the rest of the
 * node (health, metadata, the gateway's cached validations) keeps answering while they do.
 */
describe('SQLite write lock held by another process', () => {
  let s: TestServer;
  let c: TestClient;
  let backend: TestBackend;
  let gatewayToken: string;
  const log = new LogCapture();
  const auth = () => ({ authorization: basic(c.consumerKey, c.consumerSecret) });
  const timed = async <T>(fn: () => Promise<T>): Promise<{ ms: number; r: T }> => {
    const t = performance.now();
    const r = await fn();
    return { ms: performance.now() - t, r };
  };

  /** Another process: `BEGIN IMMEDIATE` on the node's database, held until release(). */
  async function holdWriteLock(): Promise<{ release(): Promise<void> }> {
    const script = `const D = require('better-sqlite3'); const db = new D(process.argv[1], { timeout: 0 });
      db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
      process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.exit(0); });`;
    const child: ChildProcess = spawn(process.execPath, ['-e', script, join(s.db.dataDir, SQLITE_FILE)], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
    });
    return {
      release: () =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.stdin!.write('go\n');
        }),
    };
  }

  beforeAll(async () => {
    backend = await startBackend('busy');
    s = await startTestServer('sqlite', { log: { level: 'info' } }, { log: log.write });
    c = await createClient(s, { owner: 'alice', password: 'alice password', app: 'busy-app' });
    await addUser(s, 'root', 'root password 123', 'admin');
    const m = s.server.management;
    const api = await m.apis.create(admin, { name: 'Busy', context: '/busy', version: 'v1', productionUrl: `${backend.url}/api`, tiers: ['Gold'] });
    await m.apis.publish(admin, api.id);
    await m.subscriptions.create(admin, { applicationId: c.applicationId, apiId: api.id, tier: 'Gold' });
    gatewayToken = (await postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, auth())).json.access_token;
    // validated once: cached from here on
    expect((await call(`${s.http}/busy/v1/x`, { headers: { authorization: `Bearer ${gatewayToken}` } })).status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
    await backend?.close();
  });

  it('the tester: /token answers 503 temporarily_unavailable with Retry-After: 1 quickly, health, metadata and cached gateway calls stay fast, one warn line without a stack', async () => {
    const busyBefore = (await scrape(`${s.portal}/metrics`)).get('gatehouse_database_busy_total')!;
    const lock = await holdWriteLock();
    try {
      const tokens = Array.from({ length: 20 }, () => timed(() => postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, auth())));
      const others = [
        timed(() => call(`${s.http}/health/live`)),
        timed(() => call(`${s.http}/.well-known/oauth-authorization-server`)),
        timed(() => call(`${s.http}/busy/v1/x`, { headers: { authorization: `Bearer ${gatewayToken}` } })),
      ];
      for (const { ms, r } of await Promise.all(tokens)) {
        expect(r.status).toBe(503);
        expect(r.json.error).toBe('temporarily_unavailable');
        expect(r.headers['retry-after']).toBe('1');
        expect(ms).toBeLessThan(1000);
      }
      const [live, metadata, gateway] = await Promise.all(others);
      expect(live!.r.status).toBe(200);
      expect(metadata!.r.status).toBe(200);
      expect(gateway!.r.status).toBe(200);
      // Queued behind one bounded wait (200 ms) at most: it was 4.7 s with a 5 s busy_timeout.
      for (const { ms } of [live!, metadata!, gateway!]) expect(ms).toBeLessThan(1000);
      // While the lock is still held, more requests are refused without any wait at all.
      const again = await timed(() => postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, auth()));
      expect(again.r.status).toBe(503);
      const probe = await timed(() => call(`${s.http}/health/live`));
      expect(probe.ms).toBeLessThan(300);
    } finally {
      await lock.release();
    }
    const busy = log.events('database_busy');
    expect(busy).toHaveLength(1);
    expect(busy[0]).toMatchObject({ level: 40, database: expect.stringContaining(SQLITE_FILE) });
    expect(JSON.stringify(busy[0])).not.toContain('"stack"');
    expect(log.lines.filter((l) => l.level >= 50)).toEqual([]);
    expect((await scrape(`${s.portal}/metrics`)).get('gatehouse_database_busy_total')! - busyBefore).toBeGreaterThanOrEqual(2);
    // The lock gone, tokens are issued again at once.
    await expect.poll(async () => (await postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, auth())).status, { timeout: 2000, interval: 50 }).toBe(200);
  });

  it('a management write through the admin REST API while the lock is held: its 503, in problem+json', async () => {
    const lock = await holdWriteLock();
    try {
      const r = await timed(() =>
        call(`${s.portal}/api/v1/users`, {
          method: 'POST',
          headers: { authorization: basic('root', 'root password 123'), 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'bob', password: 'bob password 123', role: 'subscriber' }),
        }),
      );
      expect(r.r.status).toBe(503);
      expect(r.r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.r.headers['retry-after']).toBe('1');
      expect(r.r.json).toMatchObject({ status: 503 });
      expect(r.ms).toBeLessThan(1000);
    } finally {
      await lock.release();
    }
  });

  it('the operator: a CLI command run while the node is under load succeeds', async () => {
    let stop = false;
    let issued = 0;
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const r = await postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, auth());
        if (r.status === 200) issued++;
      }
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 3; i++) {
        const r = await gatehouse(['--data-dir', s.db.dataDir, 'app', 'create', `cli-app-${i}`, '--owner', 'alice', '--json']);
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
        expect(JSON.parse(r.stdout).name).toBe(`cli-app-${i}`);
      }
    } finally {
      stop = true;
      await Promise.all(load);
    }
    expect(issued).toBeGreaterThan(50);
    expect(log.lines.filter((l) => l.level >= 50)).toEqual([]);
  }, 60_000);
});

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startServer } from '../../src/server/start.js';
import { createTestDatabase, type DbKind, type TestDatabase } from '../support/databases.js';
import { freePortOffset } from '../support/ports.js';
import { admin } from '../support/server.js';
import { kill, spawnStart, type StartedProcess } from '../support/start-process.js';

/**
 * Issue 13 item 6 and the rolling-restart acceptance, with `gatehouse start` processes (the
 * built dist/): a node SIGKILLed during a load of /token requests loses no token it answered
 * 200 (group commit commits before it replies), on SQLite and PostgreSQL; a node SIGTERMed
 * during load, by a client that acts as a load balancer (it sends only while /health/ready is
 * 200), fails no request: readiness turns 503 at once, the requests in flight finish, exit 0.
 */
const CONCURRENCY = 12;
const DRAIN_DELAY_MS = 600;

interface Target {
  db: TestDatabase;
  env: Record<string, string>;
  auth: string;
}

/** A database with one application's keys, made in-process (as the CLI would), then closed. */
async function prepare(kind: DbKind): Promise<Target> {
  const db = await createTestDatabase(kind);
  const config = loadConfig({}, {}, { dataDir: db.dataDir, database: db.database, listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 }, log: { level: 'silent' } });
  const server = await startServer(config, { logger: createLogger('silent') });
  try {
    await server.management.users.create(admin, { username: 'owner', password: 'owner-password', role: 'subscriber' });
    const app = await server.management.applications.create(admin, { owner: 'owner', name: 'load', callbackUrls: [] });
    const keys = await server.management.keys.generate(admin, app.id, 'PRODUCTION', { public: false });
    const env: Record<string, string> = {};
    if (db.database.url) env.GATEHOUSE_DATABASE_URL = db.database.url;
    if (db.database.schema) env.GATEHOUSE_DATABASE_SCHEMA = db.database.schema;
    return { db, env, auth: `Basic ${Buffer.from(`${keys.consumerKey}:${keys.consumerSecret}`).toString('base64')}` };
  } finally {
    await server.close();
  }
}

async function start(t: Target, extra: string[] = []): Promise<{ p: StartedProcess; base: string }> {
  const offset = await freePortOffset();
  const p = await spawnStart(['--data-dir', t.db.dataDir, '--port-offset', String(offset), ...extra], t.env);
  if (p.child.exitCode !== null) throw new Error(`gatehouse start failed: ${p.output()}`);
  return { p, base: `http://127.0.0.1:${8280 + offset}` };
}

/** A configuration file that has SIGTERM keep serving DRAIN_DELAY_MS with readiness 503. */
function drainConfig(t: Target): string[] {
  const config = path.join(t.db.dataDir, 'drain.yaml');
  writeFileSync(config, `listeners:\n  drainDelayMs: ${DRAIN_DELAY_MS}\n`);
  return ['--config', config];
}

interface Outcome {
  status: number | string;
  token?: string;
}

/** Runs /token requests, CONCURRENCY at a time, while `go()` says so; every outcome is kept. */
function load(base: string, auth: string, go: () => boolean, agent: Agent): { outcomes: Outcome[]; done: Promise<void>; inFlight: () => number } {
  const outcomes: Outcome[] = [];
  let inFlight = 0;
  const worker = async () => {
    while (go()) {
      inFlight++;
      try {
        const res = await request(`${base}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
          body: 'grant_type=client_credentials',
          dispatcher: agent,
        });
        const body = (await res.body.json()) as { access_token?: string };
        outcomes.push({ status: res.statusCode, ...(body.access_token ? { token: body.access_token } : {}) });
      } catch (err) {
        outcomes.push({ status: (err as { code?: string }).code ?? String(err) });
      } finally {
        inFlight--;
      }
    }
  };
  return { outcomes, done: Promise.all(Array.from({ length: CONCURRENCY }, worker)).then(() => {}), inFlight: () => inFlight };
}

async function introspectAll(base: string, auth: string, tokens: string[]): Promise<{ active: number; inactive: string[] }> {
  const agent = new Agent({ connections: 8 });
  let active = 0;
  const inactive: string[] = [];
  const queue = [...tokens];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let t = queue.pop(); t !== undefined; t = queue.pop()) {
        const res = await request(`${base}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, body: `token=${t}`, dispatcher: agent });
        const body = (await res.body.json()) as { active?: boolean };
        if (res.statusCode === 200 && body.active === true) active++;
        else inactive.push(`${res.statusCode} ${JSON.stringify(body)}`);
      }
    }),
  );
  await agent.close();
  return { active, inactive };
}

/** The suite on one database kind (one file per kind, so each stays short). */
export function durabilitySuite(kind: DbKind, available: boolean): void {
  describe.skipIf(!available)(`a node killed or stopped under load (${kind})`, () => {
    let t: Target;
    let node: StartedProcess | undefined;
    let restarted: { p: StartedProcess; base: string } | undefined;

    beforeAll(async () => {
      t = await prepare(kind);
    }, 60_000);
    afterAll(async () => {
      kill(node);
      await t?.db.drop();
    });

    it('SIGKILL during /token load: every token answered 200 still introspects active after a restart', async () => {
      const phases: string[] = [];
      let mark = Date.now();
      const phase = (name: string) => {
        phases.push(`${name} ${Date.now() - mark} ms`);
        mark = Date.now();
      };
      const first = await start(t);
      phase('start');
      node = first.p;
      const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
      let running = true;
      const l = load(first.base, t.auth, () => running, agent);
      // Kill once the node has answered a good number, with requests in flight.
      const deadline = Date.now() + 20_000;
      while (l.outcomes.filter((o) => o.status === 200).length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const inFlightAtKill = l.inFlight();
      phase('load');
      first.p.child.kill('SIGKILL');
      await first.p.exited(5000);
      running = false;
      await l.done;
      await agent.close();
      const answered = l.outcomes.filter((o) => o.status === 200).map((o) => o.token!);
      const others = l.outcomes.filter((o) => o.status !== 200);

      const second = await start(t, drainConfig(t));
      phase('restart');
      node = second.p;
      const t0 = Date.now();
      const { active, inactive } = await introspectAll(second.base, t.auth, answered);
      console.log(
        `${kind}: SIGKILL with ${inFlightAtKill} requests in flight; ${answered.length} tokens answered 200, ${active} introspect active after the restart ` +
          `(checked in ${Date.now() - t0} ms); ${others.length} requests cut by the kill (${[...new Set(others.map((o) => o.status))].join(', ')}); ${phases.join(', ')}`,
      );
      expect(inFlightAtKill).toBeGreaterThan(0);
      expect(inactive).toEqual([]);
      expect(active).toBe(answered.length);
      // What the kill cut never got an answer: no status from the node but 200.
      expect(others.every((o) => typeof o.status === 'string')).toBe(true);
      restarted = second;
    }, 90_000);

    it('SIGTERM during load, behind a client that follows /health/ready: no request fails, exit 0', async () => {
      // The node restarted by the test above (one start less per database).
      const { p, base } = restarted ?? (await start(t, drainConfig(t)));
      node = p;
      const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
      // The "load balancer": sends only while the last readiness poll said 200.
      let ready = true;
      let readyTurned = 0;
      const poller = (async () => {
        while (ready) {
          try {
            const res = await request(`${base}/health/ready`, { dispatcher: agent });
            await res.body.dump();
            if (res.statusCode !== 200) {
              ready = false;
              readyTurned = Date.now();
            }
          } catch {
            ready = false;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const l = load(base, t.auth, () => ready, agent);
      while (l.outcomes.length < 200) await new Promise((r) => setTimeout(r, 10));
      const inFlight = l.inFlight();
      const sentAt = Date.now();
      p.child.kill('SIGTERM');
      const exit = await p.exited(20_000);
      node = undefined;
      await poller;
      await l.done;
      await agent.close();
      const failed = l.outcomes.filter((o) => o.status !== 200);
      console.log(
        `${kind}: SIGTERM with ${inFlight} requests in flight: ready 503 after ${readyTurned - sentAt} ms, exit ${exit.code} after ${exit.afterMs} ms; ` +
          `${l.outcomes.length} requests, ${failed.length} failed`,
      );
      expect(failed).toEqual([]);
      expect(exit.code).toBe(0);
      expect(readyTurned).toBeGreaterThan(0);
    }, 60_000);
  });
}

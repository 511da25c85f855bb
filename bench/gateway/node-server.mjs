// The real Gatehouse node as `gatehouse start` runs it (all listeners, SQLite in a temp data
// dir, the DB-backed gateway store, metrics, JWT key), seeded with one API, one subscribed
// application and a client_credentials token fetched over HTTP. Reports {port, token}.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../dist/config/load.js';
import { createLogger } from '../../dist/log.js';
import { cliActor } from '../../dist/manage/actor.js';
import { startServer } from '../../dist/server/start.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-node-'));
const config = loadConfig({}, {}, {
  dataDir,
  listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 },
  throttling: { tiers: { Bench: { requests: 1_000_000_000, perSeconds: 60 }, Unlimited: 'unlimited' } },
  log: { level: 'warn' },
});
const server = await startServer(config, { logger: createLogger('warn') });
const { management: m } = server;
const actor = cliActor('bench');
await m.users.create(actor, { username: 'alice', password: 'bench-password-Correct-Horse-1', role: 'subscriber' });
const app = await m.applications.create(actor, { name: 'bench-app', owner: 'alice', tier: 'Unlimited', callbackUrls: [] });
const keys = await m.keys.generate(actor, app.id, 'PRODUCTION');
const api = await m.apis.create(actor, { name: 'Bench', context: '/bench', version: 'v1', productionUrl: process.env.BACKEND_URL, tiers: ['Bench'] });
await m.apis.publish(actor, api.id);
await m.subscriptions.create(actor, { applicationId: app.id, apiId: api.id, tier: 'Bench' });
const res = await fetch(`http://127.0.0.1:${server.ports.http}/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${keys.consumerKey}:${keys.consumerSecret}`).toString('base64')}` },
  body: 'grant_type=client_credentials',
});
const { access_token: token } = await res.json();
process.send?.({ port: server.ports.http, token });

const stop = async () => {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, stop);
process.on('message', (m) => { if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() }); });

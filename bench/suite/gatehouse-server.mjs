// The real Gatehouse node (startServer: every listener, the DB-backed store and gateway, metrics)
// in a child process of the suite, seeded through the management service with one user, one
// application with PRODUCTION keys, one published API with a subscription. Over IPC it mints
// single-use credentials for the benches that consume one per request (authorization codes,
// refresh tokens, access tokens to revoke) straight through the store, so no HTTP (and no
// argon2) is spent making them. Env: BACKEND_URL, BENCH_DATABASE_URL / BENCH_DATABASE_SCHEMA
// (PostgreSQL; SQLite in a temp data dir otherwise), BENCH_DATA_DIR (keep an existing data dir),
// BENCH_KEYS_SECRET (keys.secret), BENCH_CLEANUP_SECONDS (cleanup.intervalSeconds),
// BENCH_TOKEN_CACHE_MB (gateway.tokenCacheMegabytes), BENCH_PASSWORD_CONCURRENCY
// (security.passwordHashing.concurrency).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../dist/config/load.js';
import { createLogger } from '../../dist/log.js';
import { cliActor } from '../../dist/manage/actor.js';
import { TokenIssuer } from '../../dist/oauth/issuer.js';
import { opaqueTokens } from '../../dist/oauth/token-format.js';
import { startServer } from '../../dist/server/start.js';
import { cleanupExpired } from '../../dist/store/cleanup.js';
import { CodeStore } from '../../dist/store/codes.js';

const ownDir = !process.env.BENCH_DATA_DIR;
const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'gatehouse-suite-'));
const database = process.env.BENCH_DATABASE_URL ? { url: process.env.BENCH_DATABASE_URL, schema: process.env.BENCH_DATABASE_SCHEMA } : {};
const config = loadConfig({}, {}, {
  dataDir,
  database,
  listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 },
  throttling: { tiers: { Bench: { requests: 1_000_000_000, perSeconds: 60 } } },
  log: { level: 'warn' },
  // A node restarted on a PostgreSQL store gets a new data dir: it needs the secret its signing keys were stored under.
  ...(process.env.BENCH_KEYS_SECRET ? { keys: { secret: process.env.BENCH_KEYS_SECRET } } : {}),
  ...(process.env.BENCH_TOKEN_CACHE_MB ? { gateway: { tokenCacheMegabytes: Number(process.env.BENCH_TOKEN_CACHE_MB) } } : {}),
  ...(process.env.BENCH_PASSWORD_CONCURRENCY ? { security: { passwordHashing: { concurrency: Number(process.env.BENCH_PASSWORD_CONCURRENCY), queueSize: 64 } } } : {}),
  ...(process.env.BENCH_CLEANUP_SECONDS ? { cleanup: { intervalSeconds: Number(process.env.BENCH_CLEANUP_SECONDS) } } : {}),
});
const server = await startServer(config, { logger: createLogger('warn') });
const { store, management: m } = server;
const actor = cliActor('bench');
const USER = 'bench-user';
const PASSWORD = 'bench-password-Correct-Horse-1';
const REDIRECT = 'https://client.example/cb';
if (!(await store.users.findByUsername(USER))) await m.users.create(actor, { username: USER, password: PASSWORD, role: 'subscriber' });
// BENCH_REUSE=1: a node restarted on a store it seeded before keeps that application and API
// (new secret), so the tokens stored for them stay usable.
const reuse = process.env.BENCH_REUSE === '1';
const suffix = reuse ? '' : `-${Date.now()}`;
const existing = reuse ? await m.applications.byName(actor, USER, 'bench-app').catch(() => undefined) : undefined;
const app = existing ?? (await m.applications.create(actor, { name: `bench-app${suffix}`, owner: USER, tier: 'Unlimited', callbackUrls: [REDIRECT] }));
const keys = existing ? await m.keys.regenerateSecret(actor, app.id, 'PRODUCTION') : await m.keys.generate(actor, app.id, 'PRODUCTION');
let api = reuse ? await m.apis.byRef(actor, 'Bench', 'v1').catch(() => undefined) : undefined;
if (!api) {
  api = await m.apis.create(actor, { name: `Bench${suffix}`, context: `/bench${suffix.replace('-', '')}`, version: 'v1', productionUrl: process.env.BACKEND_URL ?? 'http://127.0.0.1:9', tiers: ['Bench'] });
  await m.apis.publish(actor, api.id);
  await m.subscriptions.create(actor, { applicationId: app.id, apiId: api.id, tier: 'Bench' });
}

const http = `http://127.0.0.1:${server.ports.http}`;
const basic = `Basic ${Buffer.from(`${encodeURIComponent(keys.consumerKey)}:${encodeURIComponent(keys.consumerSecret)}`).toString('base64')}`;
const res = await fetch(`${http}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: 'grant_type=client_credentials' });
const { access_token: gatewayToken } = await res.json();
if (!gatewayToken) throw new Error(`no token for the gateway bench: ${res.status}`);

const issuer = new TokenIssuer(opaqueTokens);
const client = { consumerKey: keys.consumerKey, applicationId: app.id, keyType: 'PRODUCTION' };
const user = await store.users.findByUsername(USER);
const subject = user?.username ?? USER;

/** n fresh credentials of one kind, stored in batches through the store's own group commit. */
async function mint(kind, n) {
  const now = Math.floor(Date.now() / 1000);
  const out = [];
  for (let i = 0; i < n; i += 1000) {
    const batch = [];
    // Codes have no group commit of their own (one is stored per /authorize): a batch goes in one
    // transaction, else minting them took longer than the scenario measured.
    const codes = kind === 'code' ? [] : undefined;
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      if (codes) {
        const code = opaqueTokens.generate(now);
        out.push(code);
        codes.push({
          codeHash: opaqueTokens.key(code), grantId: crypto.randomUUID(), consumerKey: client.consumerKey, applicationId: app.id,
          redirectUri: REDIRECT, redirectUriSent: true, codeChallenge: null, codeChallengeMethod: null,
          subject, username: USER, scope: ['openid'], issuedAt: now, expiresAt: now + 600,
        });
      } else {
        const { tokens, response } = issuer.build({ client, subject, username: USER, scope: ['default'], grantType: 'password', accessTtl: 3600, refreshTtl: 86400, now });
        out.push(kind === 'refresh' ? response.refresh_token : response.access_token);
        batch.push(store.tokens.create(tokens));
      }
    }
    if (codes) {
      await store.db.kysely.transaction().execute(async (trx) => {
        const inTrx = new CodeStore(trx, store.tokens);
        for (const c of codes) await inTrx.create(c);
      });
    }
    await Promise.all(batch);
  }
  return out;
}

let profiler;
process.on('message', async (msg) => {
  try {
    if (msg.op === 'mint') process.send({ id: msg.id, values: await mint(msg.kind, msg.n) });
    else if (msg.op === 'cleanup') {
      const t0 = performance.now();
      const deleted = await cleanupExpired(store, config.cleanup.batchSize);
      process.send({ id: msg.id, deleted, ms: performance.now() - t0 });
    } else if (msg.op === 'profile-start') {
      // A CPU profile of a chosen window (the minting before it left out), via the inspector.
      const { Session } = await import('node:inspector/promises');
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      process.send({ id: msg.id });
    } else if (msg.op === 'profile-stop') {
      const { profile } = await profiler.post('Profiler.stop');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(msg.file, JSON.stringify(profile));
      profiler.disconnect();
      process.send({ id: msg.id, file: msg.file });
    } else if (msg.op === 'gc') {
      // Started with --expose-gc: the heap that stays once garbage is gone.
      globalThis.gc?.();
      process.send({ id: msg.id, memory: process.memoryUsage() });
    } else if (msg.op === 'cpu') process.send({ id: msg.id, cpu: process.cpuUsage(), memory: process.memoryUsage() });
  } catch (err) {
    process.send({ id: msg.id, error: err.message });
  }
});
process.send({
  ready: true, pid: process.pid, http, portal: `https://127.0.0.1:${server.ports.portal}`, dialect: store.db?.dialect,
  applicationId: app.id, dataDir, consumerKey: keys.consumerKey, consumerSecret: keys.consumerSecret, basic, username: USER, password: PASSWORD, redirectUri: REDIRECT,
  gatewayPath: `${api.context}/v1/hello?x=1`, gatewayToken,
});
const stop = async () => {
  await server.close();
  if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, stop);

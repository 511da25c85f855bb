// Manual timing of the client_credentials path's parts, in-process against dist/ (SQLite):
// what each step costs per call, so the CPU profile's shares can be read as microseconds.
//   npm run build && node bench/token/micro.mjs [--dist DIR] [--iterations 20000]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT } from './lib.mjs';

const { values: opt } = parseArgs({ options: { dist: { type: 'string', default: path.join(ROOT, 'dist') }, iterations: { type: 'string', default: '20000' } } });
const N = Number(opt.iterations);
const imp = (p) => import(pathToFileURL(path.join(path.resolve(opt.dist), p)).href);
const { loadConfig } = await imp('config/load.js');
const { openStore } = await imp('store/index.js');
const { createOAuthService } = await imp('oauth/service.js');
const { TokenEvents } = await imp('oauth/events.js');
const { authenticateClient, parseBasic } = await imp('oauth/client-auth.js');
const { Params } = await imp('oauth/params.js');
const { sha256, secretMatchesHash } = await imp('crypto/hash.js');
const { newOpaqueToken } = await imp('crypto/random.js');

const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-micro-'));
const config = loadConfig({ dataDir: dir }, {});
const store = await openStore(config);
const service = createOAuthService(config, store, new TokenEvents());
await store.users.create('micro', 'pw', 'subscriber');
const app = await store.applications.create({ ownerUsername: 'micro', name: 'm', tier: 'Unlimited', callbackUrls: [] });
const keys = await store.applications.ensureKeys(app.id, 'PRODUCTION');
const authorization = `Basic ${Buffer.from(`${keys.consumerKey}:${keys.consumerSecret}`).toString('base64')}`;
const client = await store.applications.findClient(keys.consumerKey);
const grant = service.grants.get('client_credentials');
const now = Math.floor(Date.now() / 1000);

// The same SQL kysely runs, on one prepared better-sqlite3 statement (what caching would give).
const { default: Sqlite } = await import('better-sqlite3');
const raw = new Sqlite(path.join(dir, 'gatehouse.db'));
const compiledFind = store.db.kysely
  .selectFrom('consumer_keys as k')
  .innerJoin('applications as a', 'a.id', 'k.application_id')
  .innerJoin('users as u', 'u.id', 'a.owner_id')
  .select(['k.consumer_key', 'k.key_type', 'k.secret_hash', 'k.validity_seconds', 'a.id', 'a.name', 'a.tier', 'a.callback_urls', 'u.username'])
  .where('k.consumer_key', '=', keys.consumerKey)
  .compile();
const findStmt = raw.prepare(compiledFind.sql);
const accessRow = () => ({
  token_hash: sha256(newOpaqueToken()), grant_id: randomUUID(), consumer_key: client.consumerKey, application_id: client.applicationId,
  subject: 'micro', username: 'micro', scope: 'default', key_type: 'PRODUCTION', grant_type: 'client_credentials', idp: null,
  issued_at: now, expires_at: now + 3600, revoked_at: null,
});
const compiledInsert = store.db.kysely.insertInto('access_tokens').values(accessRow()).compile();
const insertStmt = raw.prepare(compiledInsert.sql);

async function time(name, fn, n = N) {
  for (let i = 0; i < Math.min(2000, n); i++) await fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  return { name, us };
}

const params = new Params({ grant_type: 'client_credentials' });
const response = { access_token: newOpaqueToken(), token_type: 'Bearer', expires_in: 3600, scope: 'default' };
const rows = [];
rows.push(await time('parseBasic (Authorization header)', () => parseBasic(authorization)));
rows.push(await time('secretMatchesHash (sha256 + timingSafeEqual)', () => secretMatchesHash(keys.consumerSecret, client.secretHash)));
rows.push(await time('newOpaqueToken (randomBytes 32 → base64url)', () => newOpaqueToken()));
rows.push(await time('sha256 of a token', () => sha256(response.access_token)));
rows.push(await time('randomUUID', () => randomUUID()));
rows.push(await time('JSON.stringify token response', () => JSON.stringify(response)));
rows.push(await time('findClient via kysely (build + compile + prepare + run)', () => store.applications.findClient(keys.consumerKey)));
rows.push(await time('  the same query compiled by kysely only (no execution)', () => store.db.kysely
  .selectFrom('consumer_keys as k').innerJoin('applications as a', 'a.id', 'k.application_id').innerJoin('users as u', 'u.id', 'a.owner_id')
  .select(['k.consumer_key', 'k.key_type', 'k.secret_hash', 'k.validity_seconds', 'a.id', 'a.name', 'a.tier', 'a.callback_urls', 'u.username'])
  .where('k.consumer_key', '=', keys.consumerKey).compile()));
rows.push(await time('  better-sqlite3 prepare() of that SQL', () => raw.prepare(compiledFind.sql)));
rows.push(await time('  the same query on a cached prepared statement', () => findStmt.get(compiledFind.parameters)));
rows.push(await time('authenticateClient (parse + findClient + secret check)', () => authenticateClient(authorization, params, store.applications)));
rows.push(await time('token insert via kysely (TokenStore.issue)', () => store.tokens.issue({
  tokenHash: sha256(newOpaqueToken()), grantId: randomUUID(), consumerKey: client.consumerKey, applicationId: client.applicationId, subject: 'micro',
  username: 'micro', scope: 'default', keyType: 'PRODUCTION', grantType: 'client_credentials', idp: null, issuedAt: now, expiresAt: now + 3600, revokedAt: null,
})));
rows.push(await time('  the same INSERT on a cached prepared statement', () => insertStmt.run(Object.values(accessRow()))));
rows.push(await time('  better-sqlite3 prepare() of the INSERT', () => raw.prepare(compiledInsert.sql)));
rows.push(await time('grant.handle (client_credentials: build + insert)', () => grant.handle({ client: { client, method: 'client_secret_basic' }, params, now })));
rows.push(await time('whole token path minus HTTP (authenticate + handle)', async () => {
  const c = await authenticateClient(authorization, params, store.applications);
  return grant.handle({ client: c, params, now });
}));
rows.push(await time('password grant minus argon2: lockout.status + findByUsername + issue(access+refresh)', async () => {
  await store.lockout.status('micro', now);
  await store.users.findByUsername('micro');
  return service.issuer.issue({ client, subject: 'micro', username: 'micro', scope: ['default'], grantType: 'password', accessTtl: 3600, refreshTtl: 86400, now });
}, Math.min(N, 10000)));

raw.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
const text = [`Build: ${path.relative(ROOT, path.resolve(opt.dist)) || '.'}`, '', '| Step (in-process, SQLite) | µs per call |', '|---|---:|', ...rows.map((r) => `| ${r.name} | ${r.us.toFixed(2)} |`)].join('\n');
console.log(text);

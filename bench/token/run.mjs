#!/usr/bin/env node
// Token-endpoint benchmark: Gatehouse vs oidc-provider 9 (client_credentials), Gatehouse's
// password grant vs the argon2 verify ceiling of this machine. See README.md.
//
//   npm run build && node bench/token/run.mjs [--pg] [--rounds 3] [--warmup 5] [--duration 10]
//        [--connections 50] [--argon2-concurrency 4] [--out bench/token/results.md]
//        [--profile client_credentials|password] [--alt NAME=DIST_DIR …] [--alt-cases client_credentials|both]
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cannon, CLI, freePort, HERE, loadavg, machine, median, ROOT, runJson, spawnAnnounced } from './lib.mjs';
import { summarizeProfile } from './profile-summary.mjs';

const { values: opt } = parseArgs({
  options: {
    pg: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '5' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    'argon2-concurrency': { type: 'string', default: '4' },
    out: { type: 'string' },
    profile: { type: 'string' },
    'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    /** Extra Gatehouse builds to measure in the same run: NAME=DIST_DIR (repeatable), e.g. a patched build. */
    alt: { type: 'string', multiple: true, default: [] },
    /** Only these kinds of case: comma list of cc, pw, argon2 (default all). */
    only: { type: 'string' },
    /** Also measure a bare fastify app answering /token with a constant-shape token (the HTTP floor). */
    floor: { type: 'boolean', default: false },
    /** The Gatehouse build under test (default: this checkout's dist/). */
    dist: { type: 'string' },
    /** Which cases the --alt builds get: client_credentials (default) or both. */
    'alt-cases': { type: 'string', default: 'client_credentials' },
  },
});
const ALTS = opt.alt.map((a) => {
  const eq = a.indexOf('=');
  if (eq < 1) throw new Error(`--alt takes NAME=DIST_DIR, got "${a}"`);
  const dist = path.resolve(a.slice(eq + 1));
  if (!existsSync(path.join(dist, 'cli/main.js'))) throw new Error(`--alt ${a}: no cli/main.js in ${dist}`);
  return { name: a.slice(0, eq), cli: path.join(dist, 'cli/main.js') };
});
const ROUNDS = Number(opt.rounds);
const WARMUP = Number(opt.warmup);
const DURATION = Number(opt.duration);
const CONNECTIONS = Number(opt.connections);
const ARGON2_CONCURRENCY = Number(opt['argon2-concurrency']);
const PROFILE = opt.profile;
if (PROFILE && !['client_credentials', 'password'].includes(PROFILE)) throw new Error('--profile takes client_credentials or password');
const OUT = opt.out ?? path.join(HERE, PROFILE ? `profile-${PROFILE}.md` : 'results.md');
const PROFILE_DIR = path.join(HERE, 'profiles');

const MAIN_CLI = opt.dist ? path.join(path.resolve(opt.dist), 'cli/main.js') : CLI;
if (!existsSync(MAIN_CLI)) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));
const cleanups = [];
const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

const USER = 'bench-user';
const PASSWORD = `bench-${randomBytes(9).toString('base64url')}`;
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

/** One Gatehouse node in a child process on its own data dir (and PostgreSQL schema with pg). */
async function startGatehouse(name, { pg = false, cli: cliPath = MAIN_CLI } = {}) {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const [portal, https, http] = [await freePort(), await freePort(), await freePort()];
  const cfg = path.join(dir, 'gatehouse.yaml');
  writeFileSync(cfg, `listeners:\n  host: 127.0.0.1\n  portal: ${portal}\n  https: ${https}\n  http: ${http}\nlog:\n  level: warn\n`);
  const env = {};
  let schema;
  if (pg) {
    schema = `bench_${randomBytes(5).toString('hex')}`;
    env.GATEHOUSE_DATABASE_URL = await ownDatabase(opt['pg-url'], schema);
    env.GATEHOUSE_DATABASE_SCHEMA = schema;
    // Dropping our own database drops the schema with it; otherwise drop the schema.
    if (env.GATEHOUSE_DATABASE_URL === opt['pg-url']) cleanups.push(() => dropSchema(opt['pg-url'], schema));
  }
  const cli = (...args) => runJson([cliPath, '--config', cfg, '--data-dir', dir, ...args, '--json'], { env });
  await cli('user', 'add', USER, '--password', PASSWORD);
  await cli('app', 'create', 'bench-app', '--owner', USER);
  const keys = await cli('app', 'keys', 'bench-app', '--owner', USER);
  const nodeFlags = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=gatehouse-${PROFILE}-${name}-${Date.now()}.cpuprofile`] : [];
  const proc = await spawnAnnounced([...nodeFlags, cliPath, '--config', cfg, '--data-dir', dir, 'start', '--json'], {
    env,
    logFile: path.join(dir, 'server.log'),
    accept: (o) => o && o.ports,
  });
  cleanups.unshift(() => proc.stop());
  log(`gatehouse ${name} (${pg ? `postgres schema ${schema}` : 'sqlite'}) on http://127.0.0.1:${proc.info.ports.http} pid ${proc.child.pid}`);
  return { proc, url: `http://127.0.0.1:${proc.info.ports.http}/token`, keys, pg, schema };
}

/**
 * Each PostgreSQL node gets its own database (named like its schema) when we may create one:
 * kysely's Migrator, given no migrationTableSchema, looks for its kysely_migration* tables in
 * *every* schema of the database, so a fresh schema next to one already migrated (another
 * node of this run, another agent's test) fails with 'relation "kysely_migration_lock" does
 * not exist'. Falls back to the given database when CREATE DATABASE is refused.
 */
async function ownDatabase(url, name) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } catch (err) {
    log(`cannot create database ${name} (${err.message}); using ${new URL(url).pathname.slice(1)} with schema ${name}`);
    return url;
  } finally {
    await client.end();
  }
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      log(`dropped postgres database ${name}`);
    } finally {
      await c.end();
    }
  });
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropSchema(url, schema) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    log(`dropped postgres schema ${schema}`);
  } finally {
    await client.end();
  }
}

async function startPeer() {
  const port = await freePort();
  const id = 'bench-peer-client';
  const secret = randomBytes(24).toString('base64url');
  const proc = await spawnAnnounced([path.join(HERE, 'peer-oidc.mjs'), String(port), id, secret], {
    logFile: path.join(tmp, 'peer.log'),
    accept: (o) => o && o.port,
  });
  cleanups.unshift(() => proc.stop());
  log(`oidc-provider on ${proc.info.tokenEndpoint} pid ${proc.child.pid}`);
  return { proc, url: proc.info.tokenEndpoint, id, secret };
}

/** An HTTP case: one token request, sent over and over by autocannon. */
function httpCase(id, label, url, authorization, body) {
  return { id, label, kind: 'http', url, headers: { authorization, 'content-type': FORM }, body };
}

/** Before measuring: the request must really produce a token. */
async function sanity(c) {
  const res = await fetch(c.url, { method: 'POST', headers: c.headers, body: c.body });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    /* reported below */
  }
  if (res.status !== 200 || typeof json?.access_token !== 'string' || json.token_type !== 'Bearer') {
    throw new Error(`${c.label}: sanity request got ${res.status} ${text.slice(0, 300)}`);
  }
}

async function measure(c) {
  if (c.kind === 'argon2') {
    const r = await runJson([path.join(HERE, 'argon2-ceiling.mjs'), String(WARMUP), String(DURATION), String(ARGON2_CONCURRENCY)]);
    return { rps: r.perSecond, p50: r.p50, p99: r.p99, requests: r.ops, non2xx: 0, errors: 0, timeouts: 0, warmNon2xx: 0, warmErrors: 0 };
  }
  const run = (duration) => cannon({ url: c.url, headers: c.headers, body: c.body, connections: CONNECTIONS, duration });
  const warm = await run(WARMUP);
  const r = await run(DURATION);
  return { ...r, warmNon2xx: warm.non2xx, warmErrors: warm.errors + warm.timeouts };
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

async function main() {
  const info = machine();
  const loadStart = loadavg();
  log(`node ${info.node}, ${info.cpu}, load ${loadStart}, tmp ${tmp}`);

  const sqlite = await startGatehouse('sqlite');
  const pg = opt.pg ? await startGatehouse('pg', { pg: true }) : undefined;
  const peer = PROFILE ? undefined : await startPeer();
  let floor;
  if (opt.floor && !PROFILE) {
    const proc = await spawnAnnounced([path.join(HERE, 'floor-fastify.mjs'), String(await freePort())], { logFile: path.join(tmp, 'floor.log'), accept: (o) => o && o.port });
    cleanups.unshift(() => proc.stop());
    floor = `http://127.0.0.1:${proc.info.port}/token`;
  }

  const alts = [];
  for (const a of ALTS) {
    alts.push({
      ...a,
      g: await startGatehouse(`alt-${a.name}`, { cli: a.cli }),
      // With --pg every --alt build gets a PostgreSQL node too.
      gpg: opt.pg ? await startGatehouse(`alt-${a.name}-pg`, { cli: a.cli, pg: true }) : undefined,
    });
  }

  const ghCases = (g, db, tag = '') => [
    httpCase(`gh-cc-${db}${tag}`, `Gatehouse${tag ? ` ${tag.slice(1)}` : ''} client_credentials (${db})`, g.url, basic(g.keys.consumerKey, g.keys.consumerSecret), 'grant_type=client_credentials'),
    httpCase(
      `gh-pw-${db}${tag}`,
      `Gatehouse${tag ? ` ${tag.slice(1)}` : ''} password grant (${db})`,
      g.url,
      basic(g.keys.consumerKey, g.keys.consumerSecret),
      new URLSearchParams({ grant_type: 'password', username: USER, password: PASSWORD }).toString(),
    ),
  ];
  let cases = [...ghCases(sqlite, 'sqlite'), ...(pg ? ghCases(pg, 'postgres') : [])];
  for (const a of alts) {
    const [cc, pw] = ghCases(a.g, 'sqlite', `-${a.name}`);
    cases.splice(1, 0, cc);
    if (opt['alt-cases'] === 'both') cases.push(pw);
    if (a.gpg) {
      const [ccPg, pwPg] = ghCases(a.gpg, 'postgres', `-${a.name}`);
      cases.push(ccPg);
      if (opt['alt-cases'] === 'both') cases.push(pwPg);
    }
  }
  if (PROFILE) cases = cases.filter((c) => c.id.startsWith(PROFILE === 'password' ? 'gh-pw' : 'gh-cc'));
  else {
    cases.splice(1, 0, httpCase('peer-cc', 'oidc-provider 9 client_credentials', peer.url, basic(peer.id, peer.secret), 'grant_type=client_credentials'));
    if (floor) cases.splice(2, 0, httpCase('floor-cc', 'HTTP floor: bare fastify 5 + formbody, no auth, no storage', floor, 'Basic eDp5', 'grant_type=client_credentials'));
    cases.push({ id: 'argon2', label: `argon2 verify ceiling (${ARGON2_CONCURRENCY} in flight, threadpool 4)`, kind: 'argon2' });
  }
  if (opt.only) {
    const kinds = opt.only.split(',');
    cases = cases.filter((c) => kinds.some((k) => c.id.includes(k)));
  }
  for (const c of cases) if (c.kind === 'http') await sanity(c);
  log(`sanity requests ok; ${PROFILE ? 1 : ROUNDS} round(s) of ${cases.length} cases, ${WARMUP}s warm-up + ${DURATION}s each`);

  // Rounds alternate the order (ABBA…), so a slow spell of the shared machine hits both sides.
  const results = Object.fromEntries(cases.map((c) => [c.id, []]));
  const rounds = PROFILE ? 1 : ROUNDS;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? cases : [...cases].reverse();
    for (const c of order) {
      const r = await measure(c);
      results[c.id].push(r);
      const bad = r.non2xx + r.errors + r.timeouts;
      log(`round ${round + 1} ${c.label}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms${bad ? `, ${bad} FAILED` : ''}`);
    }
  }
  const loadEnd = loadavg();

  // Aggregate: medians over rounds; ratios per round, then their median.
  const agg = (id) => {
    const rs = results[id];
    return {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      requests: rs.reduce((s, r) => s + r.requests, 0),
      non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
      errors: rs.reduce((s, r) => s + r.errors + r.timeouts, 0),
      warmBad: rs.reduce((s, r) => s + r.warmNon2xx + r.warmErrors, 0),
      perRound: rs.map((r) => r.rps),
    };
  };
  const ratio = (a, b, aim) => {
    if (!results[a] || !results[b]) return undefined;
    const per = results[a].map((r, i) => r.rps / results[b][i].rps);
    return { a, b, per, median: median(per), aim };
  };
  const ratios = PROFILE
    ? []
    : [
        ['client_credentials: Gatehouse (SQLite) / oidc-provider', ratio('gh-cc-sqlite', 'peer-cc', 2)],
        ['password grant (SQLite) / argon2 ceiling', ratio('gh-pw-sqlite', 'argon2', 0.9)],
        ['client_credentials: Gatehouse (SQLite) / bare fastify floor', ratio('gh-cc-sqlite', 'floor-cc', null)],
        ...ALTS.map((x) => [`client_credentials: Gatehouse ${x.name} (SQLite) / oidc-provider`, ratio(`gh-cc-sqlite-${x.name}`, 'peer-cc', 2)]),
        ...ALTS.map((x) => [`client_credentials: Gatehouse ${x.name} / Gatehouse (SQLite, same run)`, ratio(`gh-cc-sqlite-${x.name}`, 'gh-cc-sqlite', null)]),
        ...(opt['alt-cases'] === 'both' ? ALTS.map((x) => [`password grant: Gatehouse ${x.name} (SQLite) / argon2 ceiling`, ratio(`gh-pw-sqlite-${x.name}`, 'argon2', 0.9)]) : []),
        ...(pg ? ALTS.map((x) => [`client_credentials: Gatehouse ${x.name} / Gatehouse (PostgreSQL, same run)`, ratio(`gh-cc-postgres-${x.name}`, 'gh-cc-postgres', null)]) : []),
        ...(pg && opt['alt-cases'] === 'both' ? ALTS.map((x) => [`password grant: Gatehouse ${x.name} (PostgreSQL) / argon2 ceiling`, ratio(`gh-pw-postgres-${x.name}`, 'argon2', 0.9)]) : []),
        ...(pg
          ? [
              ['client_credentials: Gatehouse (PostgreSQL) / oidc-provider', ratio('gh-cc-postgres', 'peer-cc', 2)],
              ['password grant (PostgreSQL) / argon2 ceiling', ratio('gh-pw-postgres', 'argon2', 0.9)],
            ]
          : []),
      ].filter(([, r]) => r !== undefined);
  const totalBad = cases.reduce((s, c) => s + agg(c.id).non2xx + agg(c.id).errors, 0);

  const lines = [];
  lines.push(`# Token endpoint benchmark${PROFILE ? ` (profiling run: ${PROFILE}; numbers slowed by --cpu-prof)` : ''}`, '');
  lines.push(`- Date: ${info.date}`);
  lines.push(`- Node: ${info.node}; CPU: ${info.cpu}; ${info.os}; ${info.memory} RAM`);
  lines.push(`- Load average (1/5/15 min) at start: ${loadStart}; at end: ${loadEnd} (the machine is shared: compare ratios, not absolute numbers)`);
  lines.push(
    `- Settings: ${rounds} round(s), order alternating per round; each HTTP case ${WARMUP} s warm-up + ${DURATION} s measured, autocannon 9 (in the parent process), ${CONNECTIONS} connections, pipelining 1, loopback HTTP/1.1 keep-alive; servers in their own child processes`,
  );
  lines.push(
    `- Gatehouse: \`node dist/cli/main.js start\`, log level warn, HTTP listener, ${pg ? 'SQLite (WAL, synchronous=NORMAL) and PostgreSQL (pool 10, fresh schema)' : 'SQLite (WAL, synchronous=NORMAL)'}; client_secret_basic; opaque tokens (SHA-256 stored)`,
  );
  if (!PROFILE) {
    lines.push('- Peer: oidc-provider 9.13 (in-memory adapter, one client_secret_basic client, `features.clientCredentials`, opaque ClientCredentials tokens, no resource indicator)');
    lines.push(
      `- argon2 ceiling: @node-rs/argon2 verify() of an argon2id hash (m=19456 KiB, t=2, p=1, as src/crypto/password.ts) in a child process, ${ARGON2_CONCURRENCY} calls in flight, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, same ${WARMUP} s + ${DURATION} s; latency per call`,
    );
  }
  lines.push('');
  lines.push('| Case | req/s (median) | p50 ms | p99 ms | req/s per round | measured requests | non-2xx | errors/timeouts |');
  lines.push('|---|---:|---:|---:|---|---:|---:|---:|');
  for (const c of cases) {
    const a = agg(c.id);
    lines.push(
      `| ${c.label} | ${fmt(a.rps)} | ${fmt(a.p50, 2)} | ${fmt(a.p99, 2)} | ${a.perRound.map((x) => fmt(x, 0)).join(', ')} | ${a.requests} | ${c.kind === 'argon2' ? 'n/a' : a.non2xx} | ${c.kind === 'argon2' ? 'n/a' : a.errors} |`,
    );
  }
  if (ratios.length > 0) {
    lines.push('', '| Ratio | median of per-round ratios | per round | aim | met |', '|---|---:|---|---:|---|');
    for (const [name, r] of ratios) {
      const aim = r.aim == null ? '–' : `≥ ${r.aim}`;
      const met = r.aim == null ? '–' : r.median >= r.aim ? 'yes' : 'no';
      lines.push(`| ${name} | ${fmt(r.median, 2)}× | ${r.per.map((x) => fmt(x, 2)).join(', ')} | ${aim} | ${met} |`);
    }
  }
  const warmBad = cases.reduce((s, c) => s + agg(c.id).warmBad, 0);
  lines.push('', totalBad === 0 ? `Validity: every measured response was 2xx (no errors, no timeouts)${warmBad ? `; ${warmBad} bad responses during warm-up` : ''}.` : `**INVALID RUN: ${totalBad} non-2xx responses or errors during measurement.**`);

  if (PROFILE) {
    for (const f of cleanups.splice(0)) await f(); // stop the servers (profiles are written at exit)
    const files = readdirSync(PROFILE_DIR)
      .filter((f) => f.startsWith(`gatehouse-${PROFILE}-`) && f.endsWith('.cpuprofile'))
      .map((f) => path.join(PROFILE_DIR, f))
      .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs);
    for (const f of files.slice(0, pg ? 2 : 1).reverse()) {
      lines.push('', `## CPU profile: ${path.relative(ROOT, f)}`, '', summarizeProfile(f));
    }
  }
  const text = `${lines.join('\n')}\n`;
  writeFileSync(OUT, text);
  console.log(`\n${text}`);
  log(`written to ${path.relative(process.cwd(), OUT)}`);
  if (totalBad) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  for (const f of cleanups) await f().catch((e) => console.error('cleanup:', e.message));
  rmSync(tmp, { recursive: true, force: true });
}

#!/usr/bin/env node
// The benchmark suite (`npm run bench`): every scenario side by side with its references in one
// run, rounds interleaved with the order reversed each round, reported as per-round ratios.
// Writes bench/results/latest.json, latest.md and latest.svg. See bench/README.md.
//
//   npm run build && node bench/suite/run.mjs [--rounds 3] [--warmup 2] [--pw-warmup 6] [--duration 5]
//        [--connections 50] [--only cc,pw,…] [--no-pg] [--pg-url URL]
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cannon, cpuMicros, forkReady, HERE, log, machine, median, pacer, rank, ROOT, rssPeak, startNginx } from './lib.mjs';
import { renderMarkdown, renderSvg } from './report.mjs';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    'pw-warmup': { type: 'string', default: '6' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    'paced-slices': { type: 'string', default: '20' },
    only: { type: 'string' },
    'no-pg': { type: 'boolean', default: false },
    'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
  },
});
const ROUNDS = Number(opt.rounds);
const WARMUP = Number(opt.warmup);
const DURATION = Number(opt.duration);
const PW_WARMUP = Number(opt['pw-warmup']);
const CONNECTIONS = Number(opt.connections);
const PACED_SLICES = Number(opt['paced-slices']);
const FORM = 'application/x-www-form-urlencoded';
// The argon2 ceiling is the best of these many verifications in flight: as many as the cores,
// one more (what Gatehouse's hashing pool runs), and libuv's 4 threads (more only queue). On 2
// cores 4 at once did 5–10 % fewer than 3 (they share the caches), so one count would understate it.
const ARGON2_IN_FLIGHT = [...new Set([os.availableParallelism(), os.availableParallelism() + 1, 4].map((n) => Math.min(4, n)))].sort((a, b) => a - b);
if (!existsSync(path.join(ROOT, 'dist/server/start.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

const stops = [];
const skipped = [];

/** A database of our own on the shared PostgreSQL (dropped at the end), or undefined when unreachable. */
async function ownPgDatabase() {
  if (opt['no-pg']) return undefined;
  const { default: pg } = await import('pg');
  const name = `bench_suite_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: opt['pg-url'], connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query(`CREATE DATABASE "${name}"`);
  } catch (err) {
    skipped.push(`Gatehouse on PostgreSQL: ${opt['pg-url']} unusable (${err.message})`);
    return undefined;
  } finally {
    await c.end().catch(() => {});
  }
  stops.push(async () => {
    const d = new pg.Client({ connectionString: opt['pg-url'] });
    await d.connect();
    await d.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => d.end());
  });
  const u = new URL(opt['pg-url']);
  u.pathname = `/${name}`;
  return u.toString();
}

async function start(script, env) {
  const s = await forkReady(path.join(HERE, script), { env });
  stops.unshift(() => s.stop());
  return s;
}

/** Single-use credentials minted by a server in bulk, handed out one per request. */
function pool(server, kind, bodyOf) {
  let values = [];
  let i = 0;
  return {
    async refill(n) {
      values = (await server.call({ op: 'mint', kind, n })).values;
      i = 0;
    },
    next: () => bodyOf(values[i++ % values.length]),
    get used() { return i; },
  };
}

const form = (o) => new URLSearchParams(o).toString();

async function main() {
  const info = machine();
  log(`node ${info.node}, ${info.cpu} × ${info.nproc}, load ${info.loadavg.join(' ')}`);
  const backend = await startPortAnnouncer('../gateway/backend.mjs', {});
  const gh = await start('gatehouse-server.mjs', { BACKEND_URL: backend.info.http });
  // The gateway scenario gets a node of its own: \`gh\` also holds the hundreds of thousands of
  // single-use credentials minted for the other scenarios, whose garbage a gateway node would
  // never carry (it cost the gateway's p99 +9 ms in a run where it shared that node).
  const ghGateway = await start('gatehouse-server.mjs', { BACKEND_URL: backend.info.http });
  const pgUrl = await ownPgDatabase();
  const ghPg = pgUrl ? await start('gatehouse-server.mjs', { BACKEND_URL: backend.info.http, BENCH_DATABASE_URL: pgUrl }) : undefined;
  const peer = await start('peer-oidc.mjs');
  const o2s = await start('peer-oauth2-server.mjs');
  const floorHttp = await start('floor-http.mjs');
  const floorDurable = await start('floor-durable.mjs');
  const bareProxy = await startPortAnnouncer('../gateway/bare-proxy.mjs', { BACKEND_URL: backend.info.http });
  const nginx = await startNginx(backend.info.http);
  if (nginx) stops.unshift(() => nginx.stop());
  else skipped.push('nginx proxy_pass: no nginx binary (/usr/sbin/nginx)');

  const ghTarget = (s, db) => ({
    cc: { id: `gh-cc-${db}`, label: `Gatehouse (${db})`, server: s, url: `${s.info.http}/token`, headers: { authorization: s.info.basic, 'content-type': FORM }, body: 'grant_type=client_credentials' },
    // 8 connections: the hashing pool runs 2 at a time with 64 waiting; 50 connections only queue, and the
    // requests a warm-up abandons keep hashing into the measured run.
    pw: { id: `gh-pw-${db}`, label: `Gatehouse (${db})`, connections: 8, server: s, url: `${s.info.http}/token`, headers: { authorization: s.info.basic, 'content-type': FORM }, body: form({ grant_type: 'password', username: s.info.username, password: s.info.password }) },
  });
  const g = ghTarget(gh, 'SQLite');
  const gp = ghPg ? ghTarget(ghPg, 'PostgreSQL') : undefined;
  const introspectToken = (await gh.call({ op: 'mint', kind: 'access', n: 1 })).values[0];
  const peerIntrospectToken = (await peer.call({ op: 'mint', kind: 'access', n: 1 })).values[0];
  const peerHeaders = { authorization: peer.info.basic, 'content-type': FORM };
  const ghHeaders = { authorization: gh.info.basic, 'content-type': FORM };
  const o2sHeaders = { authorization: o2s.info.basic, 'content-type': FORM };
  const O2S = '@node-oauth/oauth2-server 5 (in-memory)';

  const scenarios = [
    {
      id: 'cc', title: 'client_credentials issuance',
      targets: [g.cc, ...(gp ? [gp.cc] : []), { id: 'peer-cc', label: 'oidc-provider 9 (in-memory)', server: peer, url: `${peer.info.http}/token`, headers: peerHeaders, body: 'grant_type=client_credentials' },
        { id: 'o2s-cc', label: O2S, server: o2s, url: `${o2s.info.http}/token`, headers: o2sHeaders, body: 'grant_type=client_credentials' },
        { id: 'floor-http', label: 'HTTP floor (bare fastify, random token)', server: floorHttp, url: `${floorHttp.info.http}/token`, headers: ghHeaders, body: 'grant_type=client_credentials' },
        { id: 'floor-durable', label: 'durable floor (HTTP floor + 1 SQLite insert)', server: floorDurable, url: `${floorDurable.info.http}/token`, headers: ghHeaders, body: 'grant_type=client_credentials' }],
      ratios: [['gh-cc-SQLite', 'peer-cc', 2], ['gh-cc-SQLite', 'o2s-cc', null], ['gh-cc-SQLite', 'floor-durable', 0.6], ['gh-cc-SQLite', 'floor-http', null], ['floor-durable', 'peer-cc', null], ...(gp ? [['gh-cc-PostgreSQL', 'peer-cc', 2]] : [])],
    },
    {
      id: 'pw', title: 'password grant',
      // At ~150 req/s a node's path runs slower for a while after idling while the other targets
      // ran (main-thread CPU per request 1 780 µs in the first 5 s, 1 290 µs 10 s in, 1 150 µs
      // warm; bench/README.md): every target of this scenario gets a longer warm-up.
      warmup: PW_WARMUP,
      targets: [g.pw, ...(gp ? [gp.pw] : []),
        // The same argon2id verification per request (Gatehouse's parameters) and the same 8 connections.
        { id: 'o2s-pw', label: O2S, connections: 8, server: o2s, url: `${o2s.info.http}/token`, headers: o2sHeaders, body: form({ grant_type: 'password', username: o2s.info.username, password: o2s.info.password }) },
        { id: 'floor-http-pw', label: 'HTTP floor + argon2 verify (bare fastify)', connections: 8, server: floorHttp, url: `${floorHttp.info.http}/token`, headers: { 'content-type': FORM }, body: form({ grant_type: 'password', username: 'u', password: floorHttp.info.password }) },
        { id: 'argon2', label: `argon2 verify ceiling (best of ${ARGON2_IN_FLIGHT.join('/')} in flight)`, kind: 'argon2' }],
      ratios: [['gh-pw-SQLite', 'argon2', 0.9], ['gh-pw-SQLite', 'o2s-pw', null], ['gh-pw-SQLite', 'floor-http-pw', null], ['floor-http-pw', 'argon2', null], ...(gp ? [['gh-pw-PostgreSQL', 'argon2', 0.9]] : [])],
    },
    {
      id: 'refresh', title: 'refresh_token grant (rotation)',
      targets: [
        { id: 'gh-refresh', label: 'Gatehouse (SQLite)', server: gh, url: `${gh.info.http}/token`, headers: ghHeaders, pool: pool(gh, 'refresh', (t) => form({ grant_type: 'refresh_token', refresh_token: t })) },
        { id: 'peer-refresh', label: 'oidc-provider 9 (in-memory)', server: peer, url: `${peer.info.http}/token`, headers: peerHeaders, pool: pool(peer, 'refresh', (t) => form({ grant_type: 'refresh_token', refresh_token: t })) },
        { id: 'o2s-refresh', label: O2S, server: o2s, url: `${o2s.info.http}/token`, headers: o2sHeaders, pool: pool(o2s, 'refresh', (t) => form({ grant_type: 'refresh_token', refresh_token: t })) },
      ],
      ratios: [['gh-refresh', 'peer-refresh', null], ['gh-refresh', 'o2s-refresh', null]],
    },
    {
      id: 'code', title: 'authorization_code exchange',
      targets: [
        { id: 'gh-code', label: 'Gatehouse (SQLite)', server: gh, url: `${gh.info.http}/token`, headers: ghHeaders, pool: pool(gh, 'code', (c) => form({ grant_type: 'authorization_code', code: c, redirect_uri: gh.info.redirectUri })) },
        { id: 'peer-code', label: 'oidc-provider 9 (in-memory)', server: peer, url: `${peer.info.http}/token`, headers: peerHeaders, pool: pool(peer, 'code', (c) => form({ grant_type: 'authorization_code', code: c, redirect_uri: peer.info.redirectUri })) },
        { id: 'o2s-code', label: O2S, server: o2s, url: `${o2s.info.http}/token`, headers: o2sHeaders, pool: pool(o2s, 'code', (c) => form({ grant_type: 'authorization_code', code: c, redirect_uri: o2s.info.redirectUri })) },
      ],
      ratios: [['gh-code', 'peer-code', null], ['gh-code', 'o2s-code', null]],
    },
    {
      id: 'introspect', title: 'introspection (one live token)',
      targets: [
        { id: 'gh-introspect', label: 'Gatehouse (SQLite)', server: gh, url: `${gh.info.http}/introspect`, headers: ghHeaders, body: form({ token: introspectToken }) },
        { id: 'peer-introspect', label: 'oidc-provider 9 (in-memory)', server: peer, url: `${peer.info.http}/token/introspection`, headers: peerHeaders, body: form({ token: peerIntrospectToken }) },
      ],
      ratios: [['gh-introspect', 'peer-introspect', null]],
    },
    {
      id: 'revoke', title: 'revocation (a distinct live token per request)',
      targets: [
        { id: 'gh-revoke', label: 'Gatehouse (SQLite)', server: gh, url: `${gh.info.http}/revoke`, headers: ghHeaders, pool: pool(gh, 'access', (t) => form({ token: t })) },
        { id: 'peer-revoke', label: 'oidc-provider 9 (in-memory)', server: peer, url: `${peer.info.http}/token/revocation`, headers: peerHeaders, pool: pool(peer, 'access', (t) => form({ token: t })) },
      ],
      ratios: [['gh-revoke', 'peer-revoke', null]],
    },
    {
      id: 'gateway', title: 'gateway (valid token, warm cache) vs proxies',
      targets: [
        { id: 'gh-gateway', label: 'Gatehouse gateway (node, SQLite)', server: ghGateway, method: 'GET', url: `${ghGateway.info.http}${ghGateway.info.gatewayPath}`, headers: { authorization: `Bearer ${ghGateway.info.gatewayToken}` } },
        { id: 'bare-proxy', label: 'bare undici proxy (~20 lines)', server: bareProxy, method: 'GET', url: `${bareProxy.info.http}/hello?x=1`, headers: {} },
        ...(nginx ? [{ id: 'nginx', label: 'nginx proxy_pass (1 worker)', server: nginx, method: 'GET', url: `${nginx.info.http}/hello?x=1`, headers: {} }] : []),
      ],
      ratios: [['gh-gateway', 'bare-proxy', 0.9], ...(nginx ? [['gh-gateway', 'nginx', null]] : [])],
      addedP99: ['gh-gateway', 'bare-proxy', 1],
      // The added latency itself: both at the same fixed rate, 30 % of the slower one's throughput.
      paced: { of: 'gh-gateway', to: 'bare-proxy', fraction: 0.3, aimBelow: 1 },
    },
  ].filter((s) => !opt.only || opt.only.split(',').includes(s.id));

  // Sanity: every target answers 2xx before anything is measured.
  for (const s of scenarios) for (const t of s.targets) if (t.kind !== 'argon2') {
    if (t.pool) await t.pool.refill(5);
    const res = await fetch(t.url, { method: t.method ?? 'POST', headers: t.headers, body: t.method === 'GET' ? undefined : (t.pool ? t.pool.next() : t.body) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${s.id} ${t.label}: sanity request got ${res.status} ${text.slice(0, 200)}`);
  }
  log(`sanity ok; ${scenarios.length} scenarios × ${ROUNDS} rounds, ${WARMUP} s warm-up (${PW_WARMUP} s for the password grant) + ${DURATION} s each`);

  const results = {};
  const maxRps = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of scenarios) {
      const order = round % 2 === 0 ? s.targets : [...s.targets].reverse();
      for (const t of order) {
        const r = await measure(t, maxRps[t.id], s.warmup ?? WARMUP);
        maxRps[t.id] = Math.max(maxRps[t.id] ?? 0, r.rps);
        (results[t.id] ??= []).push(r);
        log(`round ${round + 1} ${s.id} ${t.label}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuPerReq.toFixed(0)} µs CPU/req, peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MB${r.non2xx + r.errors ? `, ${r.non2xx + r.errors} FAILED` : ''}`);
      }
    }
  }

  const paced = {};
  for (const s of scenarios) if (s.paced) paced[s.id] = await measurePaced(s, results);

  const out = {
    suite: 'gatehouse bench', machine: info, loadavgEnd: machine().loadavg,
    settings: { pacedSlices: PACED_SLICES, rounds: ROUNDS, warmupSeconds: WARMUP, passwordWarmupSeconds: PW_WARMUP, durationSeconds: DURATION, connections: CONNECTIONS, loadGenerator: 'autocannon 8 in the parent process, pipelining 1, loopback HTTP/1.1 keep-alive' },
    skipped: skipped.filter(Boolean),
    scenarios: scenarios.map((s) => ({
      id: s.id, title: s.title,
      targets: s.targets.map((t) => {
        const rs = results[t.id];
        return {
          id: t.id, label: t.label, rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)),
          cpuPerReq: median(rs.map((r) => r.cpuPerReq)), peakRssMB: Math.max(...rs.map((r) => r.peakRss)) / 2 ** 20, perRound: rs.map((r) => Math.round(r.rps)),
          requests: rs.reduce((a, r) => a + r.requests, 0), failed: rs.reduce((a, r) => a + r.non2xx + r.errors, 0),
          ...(t.kind === 'argon2' ? { inFlightPerRound: rs.map((r) => r.inFlight) } : {}),
        };
      }),
      ratios: s.ratios.map(([a, b, aim]) => {
        const per = results[a].map((r, i) => r.rps / results[b][i].rps);
        const m = median(per);
        // CPU efficiency: the reference's server CPU per request over ours (steadier than req/s on a shared machine).
        const cpu = median(results[a].map((r, i) => results[b][i].cpuPerReq / r.cpuPerReq));
        return { of: a, to: b, median: m, perRound: per, cpuEfficiency: cpu, aim, met: aim == null ? null : m >= aim, metByCpu: aim == null || !Number.isFinite(cpu) ? null : cpu >= aim };
      }),
      ...(paced[s.id] ? { pacedP99Ms: paced[s.id] } : {}),
      ...(s.addedP99 ? { addedP99Ms: { of: s.addedP99[0], to: s.addedP99[1], median: median(results[s.addedP99[0]].map((r, i) => r.p99 - results[s.addedP99[1]][i].p99)), aimBelow: s.addedP99[2] } } : {}),
    })),
  };
  out.failed = out.scenarios.reduce((a, s) => a + s.targets.reduce((b, t) => b + t.failed, 0) + (s.pacedP99Ms?.failed ?? 0), 0);
  mkdirSync(opt.out, { recursive: true });
  writeFileSync(path.join(opt.out, 'latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(path.join(opt.out, 'latest.md'), renderMarkdown(out));
  writeFileSync(path.join(opt.out, 'latest.svg'), renderSvg(out));
  console.log(`\n${renderMarkdown(out)}`);
  log(`written to ${path.relative(process.cwd(), opt.out)}/latest.{json,md,svg}`);
  if (out.failed) process.exitCode = 1;
}

async function measure(t, maxRps, warmup) {
  if (t.kind === 'argon2') {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bench/token/argon2-ceiling.mjs'), String(warmup), String(DURATION), ARGON2_IN_FLIGHT.join(',')]);
    const r = JSON.parse(stdout.trim().split('\n').pop());
    log(`argon2 ceiling windows: ${r.windows.map((w) => `${w.concurrency} in flight ${w.perSecond}/s, ${w.cpuPerOp} µs CPU/op`).join('; ')}`);
    return { rps: r.perSecond, p50: r.p50, p99: r.p99, requests: r.ops, non2xx: 0, errors: 0, peakRss: NaN, cpuPerReq: r.cpuPerOp, inFlight: r.concurrency };
  }
  // Enough single-use credentials for warm-up and measurement. In the first round, at 1.6×
  // 12 000/s (what the fastest peer does on a fast 2-core machine); after it, at 2.5× the fastest
  // rate this target has shown, and at least 5 000/s: a target's rate can double from one round to
  // the next (oauth2-server's code exchange ran out at 11 327/s after a round at half that).
  // Minting the first round's count every round took 4–5 minutes of a slower machine's suite.
  const rate = maxRps === undefined ? 12_000 * 1.6 : Math.max(maxRps * 2.5, 5_000);
  if (t.pool) await t.pool.refill(Math.ceil((rate + 500) * (warmup + DURATION)));
  const run = (duration) => cannon({ url: t.url, method: t.method ?? 'POST', headers: t.headers, body: t.body, next: t.pool?.next, connections: t.connections ?? CONNECTIONS, duration });
  await run(warmup);
  const peak = rssPeak(t.server.pid);
  const c0 = cpuMicros(t.server.pid);
  const r = await run(DURATION);
  return { ...r, peakRss: peak.stop(), cpuPerReq: (cpuMicros(t.server.pid) - c0) / r.requests };
}

/**
 * p99 added at a fixed rate: both targets get the same open-loop load (`fraction` of the slower
 * one's median req/s above, on CONNECTIONS keep-alive connections) in 1-s slices, alternating,
 * PACED_SLICES slices each after one warm-up slice; the figure is the median over the slices of
 * (ours − reference's) p99 of a slice and its neighbour, so that a stall of the shared machine
 * that hits one slice does not decide it.
 */
async function measurePaced(s, results) {
  const { of, to, fraction, aimBelow } = s.paced;
  const t = Object.fromEntries(s.targets.map((x) => [x.id, x]));
  const rate = Math.max(100, Math.round((fraction * Math.min(median(results[of].map((r) => r.rps)), median(results[to].map((r) => r.rps)))) / 100) * 100);
  const p = { [of]: pacer(t[of].url, CONNECTIONS), [to]: pacer(t[to].url, CONNECTIONS) };
  const run = (id) => p[id].run({ method: t[id].method, headers: t[id].headers, rate, duration: 1 });
  await run(of);
  await run(to);
  const per = { [of]: [], [to]: [] };
  const lat = { [of]: [], [to]: [] };
  let failed = 0;
  for (let i = 0; i < PACED_SLICES; i++) {
    for (const id of i % 2 === 0 ? [of, to] : [to, of]) {
      const r = await run(id);
      per[id].push(r.p99);
      for (const x of r.lat) lat[id].push(x);
      failed += r.failed;
    }
  }
  await Promise.all(Object.values(p).map((x) => x.close()));
  const q = (xs, f) => rank(xs.sort((x, y) => x - y), f);
  const diffs = per[of].map((x, i) => x - per[to][i]);
  const out = {
    of, to, rate, connections: CONNECTIONS, slices: PACED_SLICES, aimBelow, failed,
    median: median(diffs), perSlice: diffs.map((x) => Number(x.toFixed(3))),
    targets: Object.fromEntries([of, to].map((id) => [id, { p50: q(lat[id], 0.5), p99: q(lat[id], 0.99), sliceP99Median: median(per[id]) }])),
  };
  log(`paced ${s.id} at ${rate} req/s: p99 added ${out.median.toFixed(3)} ms (median of ${PACED_SLICES} slices; slice p99 ${out.targets[of].sliceP99Median.toFixed(2)} vs ${out.targets[to].sliceP99Median.toFixed(2)} ms)${failed ? `, ${failed} FAILED` : ''}`);
  return out;
}

/** bench/gateway's backend and bare proxy announce {port} over IPC (not {ready}). */
async function startPortAnnouncer(script, env) {
  const { fork } = await import('node:child_process');
  const child = fork(path.join(HERE, script), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [m] = await new Promise((r) => child.once('message', (x) => r([x])));
  const s = { pid: child.pid, info: { http: `http://127.0.0.1:${m.port}` }, stop: async () => { child.kill('SIGTERM'); } };
  stops.unshift(s.stop);
  return s;
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  for (const f of stops) await f().catch((e) => console.error('cleanup:', e.message));
  process.exit(process.exitCode ?? 0);
}

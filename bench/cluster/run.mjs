#!/usr/bin/env node
// Cluster bench: throughput of 1, 2 and 3 Gatehouse nodes (`gatehouse start` processes) on one
// PostgreSQL schema and one Redis, under the same load: POST /token (client_credentials) and a
// gateway call with a valid token. The load (autocannon, in this process) is split evenly across
// the nodes in use. Rounds are interleaved (1, 2, 3 nodes, 1, 2, 3, …) so drifting load from other
// processes hits every configuration alike; the table shows medians and ratios to one node.
//   node bench/cluster/run.mjs [--rounds 2] [--seconds 5] [--connections 24] [--no-build]
// Writes bench/cluster/results.md. Needs PostgreSQL (GATEHOUSE_TEST_DATABASE_URL or
// postgres://postgres@127.0.0.1:5432/test) and Redis (GATEHOUSE_TEST_REDIS_URL or redis://127.0.0.1:6379).
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { Agent, request } from 'undici';
import { CLI, ROOT, spawnAnnounced, machine, loadavg, median } from '../token/lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i === -1 ? dflt : Number(args[i + 1]); };
const ROUNDS = opt('rounds', 2);
const SECONDS = opt('seconds', 5);
const CONNECTIONS = opt('connections', 24);
const PG_URL = process.env.GATEHOUSE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const started = Date.now();

if (!args.includes('--no-build')) {
  console.log('building (tsc) …');
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { stdio: 'inherit', cwd: ROOT });
}

const schema = `bench_cluster_${process.pid}`;
const dirs = [];
const nodes = [];
let backend;
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function cleanup() {
  await Promise.allSettled(nodes.map((n) => n.stop()));
  backend?.kill('SIGTERM');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
}

try {
  backend = fork(path.join(HERE, '../gateway/backend.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const backendPort = await new Promise((r) => backend.once('message', (m) => r(m.port)));

  const yaml = (dir) => [
    `dataDir: ${dir}`,
    `database: { url: "${PG_URL}", schema: ${schema}, poolSize: 10 }`,
    `redis: { url: "${REDIS_URL}" }`,
    'keys: { secret: "bench-cluster-secret-of-at-least-32-characters" }',
    'listeners: { host: 127.0.0.1, portal: 0, https: 0, http: 0 }',
    'log: { level: warn }',
  ].join('\n');
  // Three nodes, started one after the other (the first migrates the schema).
  for (const name of ['a', 'b', 'c']) {
    const dir = mkdtempSync(path.join(tmpdir(), `gatehouse-bench-cluster-${name}-`));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'gatehouse.yaml'), yaml(dir));
    const n = await spawnAnnounced([CLI, '--config', path.join(dir, 'gatehouse.yaml'), 'start', '--json'], { accept: (o) => o.ports, timeoutMs: 120_000, logFile: path.join(dir, 'node.log') });
    nodes.push({ ...n, dir, http: `http://127.0.0.1:${n.info.ports.http}`, portal: `https://127.0.0.1:${n.info.ports.portal}` });
    console.log(`node ${name} on ${nodes.at(-1).http}`);
  }

  // Data, through the admin API of node a: an admin (CLI), an application with keys, an API, a subscription.
  execFileSync(process.execPath, [CLI, '--config', path.join(nodes[0].dir, 'gatehouse.yaml'), 'user', 'add', 'root', '--role', 'admin', '--password-stdin'], { input: 'bench-root-password\n' });
  const admin = `Basic ${Buffer.from('root:bench-root-password').toString('base64')}`;
  const rest = async (method, p, body) => {
    const r = await request(`${nodes[0].portal}/api/v1${p}`, { method, dispatcher: insecure, headers: { authorization: admin, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${p}: ${r.statusCode} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  await rest('POST', '/users', { username: 'benchsub', password: 'bench-subscriber-pw', role: 'subscriber' });
  const app = await rest('POST', '/applications', { name: 'bench', owner: 'benchsub' });
  const keys = await rest('POST', `/applications/${app.id}/keys/PRODUCTION`, {});
  const api = await rest('POST', '/apis', { name: 'Bench', context: '/bench', version: 'v1', productionUrl: `http://127.0.0.1:${backendPort}`, tiers: ['Unlimited'] });
  await rest('POST', `/apis/${api.id}/publish`);
  await rest('POST', '/subscriptions', { applicationId: app.id, apiId: api.id, tier: 'Unlimited' });
  const basic = `Basic ${Buffer.from(`${keys.consumerKey}:${keys.consumerSecret}`).toString('base64')}`;
  const tokenBody = 'grant_type=client_credentials';
  const tr = await request(`${nodes[0].http}/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: tokenBody });
  const token = (await tr.body.json()).access_token;

  const loads = {
    token: (n) => ({ url: `${n.http}/token`, method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: tokenBody }),
    gateway: (n) => ({ url: `${n.http}/bench/v1/hello`, method: 'GET', headers: { authorization: `Bearer ${token}` } }),
  };

  /** CPU time (user + system, µs) the three node processes have used so far (Linux /proc; 0 elsewhere). */
  const nodesCpu = () =>
    nodes.reduce((sum, n) => {
      try {
        const f = readFileSync(`/proc/${n.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return sum + (Number(f[11]) + Number(f[12])) * 10_000; // utime, stime in 1/100 s
      } catch {
        return sum;
      }
    }, 0);

  /** The load split over the first `count` nodes, at once; summed req/s, worst p99, failures, node CPU per request. */
  async function run(kind, count, seconds) {
    const per = Math.max(1, Math.round(CONNECTIONS / count));
    const cpu0 = nodesCpu();
    const rs = await Promise.all(nodes.slice(0, count).map((n) => autocannon({ ...loads[kind](n), connections: per, duration: seconds, pipelining: 1, timeout: 10 })));
    const total = rs.reduce((s, r) => s + r.requests.total, 0);
    return {
      rps: rs.reduce((s, r) => s + r.requests.total / r.duration, 0),
      p99: Math.max(...rs.map((r) => r.latency.p99)),
      failed: rs.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0),
      cpuPerRequest: total > 0 ? (nodesCpu() - cpu0) / total : NaN,
    };
  }

  console.log('warming up …');
  for (const kind of Object.keys(loads)) for (const count of [1, 2, 3]) await run(kind, count, 1);
  const results = { token: { 1: [], 2: [], 3: [] }, gateway: { 1: [], 2: [], 3: [] } };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const kind of Object.keys(loads)) {
      for (const count of [1, 2, 3]) {
        const r = await run(kind, count, SECONDS);
        results[kind][count].push(r);
        console.log(`round ${round} ${kind} ${count} node(s): ${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms, ${r.failed} failed, ${r.cpuPerRequest.toFixed(0)} node CPU µs/req (load ${loadavg()})`);
      }
    }
  }

  const m = machine();
  const row = (kind, count) => {
    const rps = median(results[kind][count].map((r) => r.rps));
    const base = median(results[kind][1].map((r) => r.rps));
    const cpu = median(results[kind][count].map((r) => r.cpuPerRequest));
    return `| ${kind === 'token' ? 'POST /token (client_credentials)' : 'gateway GET, valid token'} | ${count} | ${rps.toFixed(0)} | ${(rps / base).toFixed(2)}× | ${cpu.toFixed(0)} | ${Math.max(...results[kind][count].map((r) => r.p99))} | ${results[kind][count].reduce((s, r) => s + r.failed, 0)} |`;
  };
  const report = [
    '# Cluster throughput: 1, 2 and 3 nodes',
    '',
    `${m.date} · ${m.cpu} · ${m.memory} · ${m.os} · Node ${m.node} · load average at the end ${loadavg()}`,
    '',
    `Three \`gatehouse start\` processes on one PostgreSQL schema and one Redis; ${CONNECTIONS} connections in all (autocannon, split evenly over the nodes in use), ` +
      `${ROUNDS} interleaved rounds of ${SECONDS} s per configuration, medians. The load generator, the backend, PostgreSQL and Redis share the same cores as the nodes.`,
    '',
    '| load | nodes | req/s | vs 1 node | node CPU µs/req | worst p99 ms | failed |',
    '|---|---|---|---|---|---|---|',
    ...['token', 'gateway'].flatMap((kind) => [1, 2, 3].map((c) => row(kind, c))),
    '',
    'Per round (req/s): ' + ['token', 'gateway'].map((kind) => `${kind}: ` + [1, 2, 3].map((c) => `${c} node(s) ${results[kind][c].map((r) => r.rps.toFixed(0)).join(' / ')}`).join(', ')).join('; ') + '.',
    '',
    '"node CPU µs/req" is the user + system time of the three node processes (idle ones included) over the requests served: it stays about flat when the work per request does not grow with the number of nodes, whatever else runs on the machine.',
    '',
    `Run time ${((Date.now() - started) / 1000).toFixed(0)} s. Command: \`node bench/cluster/run.mjs ${args.join(' ')}\`.`,
    '',
  ].join('\n');
  writeFileSync(path.join(HERE, 'results.md'), report);
  console.log(report);
} finally {
  await cleanup();
}

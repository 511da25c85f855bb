// Compares two Gatehouse builds by the server's CPU time per request, which a loaded machine
// disturbs far less than throughput: each build runs as `gatehouse start` in a child process,
// gets the same fixed number of requests at a modest concurrency, and /proc/<pid>/stat gives
// the CPU it spent (user + system, all its threads). Rounds alternate the order (ABBA).
//
//   npm run build && node bench/compare-builds.mjs --base /path/to/other/dist [--rounds 4] [--requests 4000]
//
// Scenarios: client_credentials at /token (HTTP listener), a gateway call with a validated
// (cached) token to a loopback backend, and refresh_token rotation. Prints a Markdown table:
// CPU µs per request for each build and current/base (above 1: the current build costs more).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { CLI, freePort, loadavg, machine, median, runJson, spawnAnnounced } from './token/lib.mjs';

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '4' },
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
  },
});
if (!opt.base) throw new Error('--base DIR (another build\'s dist/) is required');
const ROUNDS = Number(opt.rounds);
const REQUESTS = Number(opt.requests);
const CONCURRENCY = Number(opt.concurrency);
const TICK = 100; // USER_HZ on Linux
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-ab-'));
const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK; // utime, stime
}

const backend = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('{"ok":true}'));
});
backend.listen(0, '127.0.0.1');
await new Promise((r) => backend.once('listening', r));
const backendUrl = `http://127.0.0.1:${backend.address().port}`;

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function startBuild(name, dist) {
  const cliPath = path.join(path.resolve(dist), 'cli/main.js');
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const [portal, https, httpPort] = [await freePort(), await freePort(), await freePort()];
  const cfg = path.join(dir, 'gatehouse.yaml');
  writeFileSync(cfg, `listeners:\n  host: 127.0.0.1\n  portal: ${portal}\n  https: ${https}\n  http: ${httpPort}\nlog:\n  level: warn\n`);
  const cli = (...args) => runJson([cliPath, '--config', cfg, '--data-dir', dir, ...args, '--json']);
  await cli('user', 'add', 'ab-user', '--password', 'ab-password-123');
  await cli('app', 'create', 'ab-app', '--owner', 'ab-user');
  const keys = await cli('app', 'keys', 'ab-app', '--owner', 'ab-user');
  await cli('api', 'create', '--name', 'AB', '--context', '/ab', '--version', 'v1', '--production-url', backendUrl, '--tiers', 'Unlimited', '--publish');
  await cli('subscribe', '--owner', 'ab-user', '--app', 'ab-app', '--api', 'AB:v1', '--tier', 'Unlimited');
  const proc = await spawnAnnounced([cliPath, '--config', cfg, '--data-dir', dir, 'start', '--json'], { logFile: path.join(dir, 'server.log'), accept: (o) => o && o.ports });
  const base = `http://127.0.0.1:${proc.info.ports.http}`;
  const pool = new Pool(base, { connections: CONCURRENCY, pipelining: 1 });
  const auth = basic(keys.consumerKey, keys.consumerSecret);
  const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: auth };
  const post = async (body) => {
    const r = await pool.request({ path: '/token', method: 'POST', headers: form, body });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${name} /token ${r.statusCode}: ${text}`);
    return JSON.parse(text);
  };
  const token = (await post('grant_type=client_credentials')).access_token;
  // A pool of refresh tokens, each used once (a refresh rotates it).
  const refreshes = [];
  const scenarios = {
    client_credentials: () => post('grant_type=client_credentials'),
    gateway: async () => {
      const r = await pool.request({ path: '/ab/v1/x', method: 'GET', headers: { authorization: `Bearer ${token}` } });
      await r.body.dump();
      if (r.statusCode !== 200) throw new Error(`${name} gateway ${r.statusCode}`);
    },
    refresh_token: async () => {
      const rt = refreshes.pop();
      const t = await post(`grant_type=refresh_token&refresh_token=${encodeURIComponent(rt)}`);
      refreshes.push(t.refresh_token);
    },
  };
  // Refresh tokens come from the password grant; make enough for the concurrency.
  for (let i = 0; i < CONCURRENCY; i++) refreshes.push((await post('grant_type=password&username=ab-user&password=ab-password-123&scope=PRODUCTION')).refresh_token);
  return { name, pid: proc.child.pid, scenarios, stop: async () => { await pool.close(); await proc.stop(); } };
}

async function measure(build, scenario) {
  const run = build.scenarios[scenario];
  for (let i = 0; i < 200; i++) await run(); // warm
  const cpu0 = cpuSeconds(build.pid);
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < REQUESTS) await run();
  }));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(build.pid) - cpu0;
  return { usPerRequest: (cpu / REQUESTS) * 1e6, rps: REQUESTS / wall };
}

log(`${machine().cpu ?? ''} load ${loadavg()}; ${ROUNDS} rounds × ${REQUESTS} requests at concurrency ${CONCURRENCY}`);
const current = await startBuild('current', path.join(path.dirname(CLI), '..'));
const other = await startBuild('base', opt.base);
const results = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [current, other] : [other, current];
    for (const scenario of Object.keys(current.scenarios)) {
      for (const b of order) {
        const r = await measure(b, scenario);
        ((results[scenario] ??= {})[b.name] ??= []).push(r);
        log(`round ${round + 1} ${scenario} ${b.name}: ${r.usPerRequest.toFixed(0)} µs CPU/request, ${r.rps.toFixed(0)} req/s`);
      }
    }
  }
} finally {
  await current.stop();
  await other.stop();
  backend.close();
  rmSync(tmp, { recursive: true, force: true });
}

console.log(`\n| Scenario | current µs CPU/req | base µs CPU/req | current / base (median of rounds) | per round |\n|---|---:|---:|---:|---|`);
for (const [scenario, r] of Object.entries(results)) {
  const ratios = r.current.map((c, i) => c.usPerRequest / r.base[i].usPerRequest);
  const med = (xs) => median(xs).toFixed(0);
  console.log(`| ${scenario} | ${med(r.current.map((x) => x.usPerRequest))} | ${med(r.base.map((x) => x.usPerRequest))} | ${median(ratios).toFixed(2)} | ${ratios.map((x) => x.toFixed(2)).join(', ')} |`);
}
console.log(`\nload at end ${loadavg()}`);

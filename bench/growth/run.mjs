#!/usr/bin/env node
// Growth bench: does the cost stay flat as tokens pile up? Two Gatehouse nodes per database run
// side by side: A keeps an (almost) empty store, B gets N tokens bulk-loaded through the data
// layer (load.mjs). Both serve the same scenarios in interleaved rounds (A B, B A, …) and every
// figure is reported as B / A, per round, then the median: issuance (client_credentials),
// introspection (of stored tokens, random ones) and cold validation (gateway calls, each with a
// stored token the gateway has not seen, so one store lookup each). Also: B's p99 during a
// cleanup pass over `--expired` expired rows, and B's peak RSS under load.
//
//   npm run build && node bench/growth/run.mjs [--n 1000000,10000000] [--db sqlite,postgres] [--rounds 2]
//        [--warmup 2] [--duration 5] [--expired 150000] [--merge] [--no-warm-cache]
// Writes bench/results/growth.json and growth.md.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { cannon, cpuMicros, forkReady, HERE as SUITE, log, machine, median, ROOT, rssBytes, rssPeak } from '../suite/lib.mjs';

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000,10000000' },
    db: { type: 'string', default: 'sqlite,postgres' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '2' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    expired: { type: 'string', default: '150000' },
    sample: { type: 'string', default: '100000' },
    'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
    merge: { type: 'boolean', default: false },
    'no-warm-cache': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(opt.rounds);
const WARMUP = Number(opt.warmup);
const DURATION = Number(opt.duration);
const FORM = 'application/x-www-form-urlencoded';
const stops = [];
const run = promisify(execFile);

async function pgDatabase() {
  const { default: pg } = await import('pg');
  const name = `bench_growth_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: opt['pg-url'] });
  await c.connect();
  await c.query(`CREATE DATABASE "${name}"`).finally(() => c.end());
  stops.push(async () => {
    const d = new pg.Client({ connectionString: opt['pg-url'] });
    await d.connect();
    await d.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => d.end());
  });
  const u = new URL(opt['pg-url']);
  u.pathname = `/${name}`;
  return u.toString();
}

async function node(db, backendUrl) {
  // No scheduled cleanup: the pass over the expired rows is measured on its own, below.
  const env = { BACKEND_URL: backendUrl, BENCH_REUSE: '1', BENCH_CLEANUP_SECONDS: '86400', BENCH_KEYS_SECRET: randomBytes(32).toString('base64url') };
  if (db === 'postgres') env.BENCH_DATABASE_URL = await pgDatabase();
  else env.BENCH_DATA_DIR = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-growth-'));
  const script = path.join(SUITE, 'gatehouse-server.mjs');
  const handle = { env, current: await forkReady(script, { env }) };
  const s = {
    env,
    get info() { return handle.current.info; },
    get pid() { return handle.current.pid; },
    call: (m) => handle.current.call(m),
    stop: () => handle.current.stop(),
    /** A fresh process on the same store (its heap and SQLite's page cache start cold, as after a restart). */
    async restart() { await handle.current.stop(); handle.current = await forkReady(script, { env }); },
  };
  stops.unshift(async () => { await s.stop(); if (env.BENCH_DATA_DIR) rmSync(env.BENCH_DATA_DIR, { recursive: true, force: true }); });
  return s;
}

/** Hands out tokens one per request; never the same one twice (cold validation needs unseen tokens). */
function tokenPool(tokens) {
  let i = 0;
  return { next: () => tokens[i++ % tokens.length], get left() { return tokens.length - i; } };
}

function scenarios(s, pool) {
  const h = { authorization: s.info.basic, 'content-type': FORM };
  return {
    issuance: { url: `${s.info.http}/token`, headers: h, body: 'grant_type=client_credentials' },
    introspection: { url: `${s.info.http}/introspect`, headers: h, next: () => new URLSearchParams({ token: pool.introspect.next() }).toString() },
    'cold validation': { url: `${s.info.http}${s.info.gatewayPath}`, method: 'GET', headers: {}, nextHeaders: () => ({ authorization: `Bearer ${pool.cold.next()}` }) },
  };
}

async function once(target, pid) {
  const c = (duration) => target.nextHeaders
    ? coldCannon(target, duration)
    : cannon({ ...target, connections: Number(opt.connections), duration });
  await c(WARMUP);
  const peak = rssPeak(pid);
  const c0 = cpuMicros(pid);
  const r = await c(DURATION);
  return { ...r, peakRss: peak.stop(), cpuPerReq: (cpuMicros(pid) - c0) / r.requests };
}

/** autocannon with a fresh Authorization header per request (a token the gateway has not seen). */
async function coldCannon(t, duration) {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({
    url: t.url, method: 'GET', connections: Number(opt.connections), duration, pipelining: 1, timeout: 30,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...t.nextHeaders() } }) }],
  });
  return { requests: r.requests.total, rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts, codes: Object.keys(r.statusCodeStats ?? {}).join(',') };
}

/** Interleaved rounds of every scenario on A and B; B / A per round. */
async function compare(A, B, poolA, poolB, stepLabel) {
  const sa = scenarios(A, poolA);
  const sb = scenarios(B, poolB);
  const rows = [];
  for (const name of Object.keys(sa)) {
    const ra = [];
    const rb = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [['A', sa, A, ra], ['B', sb, B, rb]] : [['B', sb, B, rb], ['A', sa, A, ra]];
      for (const [tag, s, srv, acc] of order) {
        const r = await once(s[name], srv.pid);
        acc.push(r);
        log(`${stepLabel} ${name} ${tag} round ${round + 1}: ${r.rps.toFixed(0)} req/s p99 ${r.p99} ms, ${r.cpuPerReq.toFixed(0)} µs CPU/req, RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MB${r.non2xx + r.errors ? `, ${r.non2xx + r.errors} FAILED (${r.errors} errors; statuses ${r.codes ?? '?'})` : ''}`);
      }
    }
    rows.push({
      scenario: name,
      emptyRps: median(ra.map((r) => r.rps)), loadedRps: median(rb.map((r) => r.rps)),
      emptyP99: median(ra.map((r) => r.p99)), loadedP99: median(rb.map((r) => r.p99)),
      rpsRatio: median(rb.map((r, i) => r.rps / ra[i].rps)),
      emptyCpu: median(ra.map((r) => r.cpuPerReq)), loadedCpu: median(rb.map((r) => r.cpuPerReq)), cpuRatio: median(rb.map((r, i) => ra[i].cpuPerReq / r.cpuPerReq)), p99Ratio: median(rb.map((r, i) => r.p99 / Math.max(1, ra[i].p99))),
      loadedPeakRssMB: Math.max(...rb.map((r) => r.peakRss)) / 2 ** 20,
      failed: [...ra, ...rb].reduce((a, r) => a + r.non2xx + r.errors, 0),
    });
  }
  return rows;
}

async function growth(db, backendUrl) {
  const A = await node(db, backendUrl);
  const B = await node(db, backendUrl);
  const need = Number(opt.sample);
  const mint = async (s) => (await s.call({ op: 'mint', kind: 'access', n: need })).values;
  const poolA = { introspect: tokenPool(await mint(A)), cold: tokenPool(await mint(A)) };
  const result = { db, ranAt: new Date().toISOString(), loadavg: os.loadavg().map((x) => Number(x.toFixed(2))), steps: [] };

  // Step 0: B as empty as A (the noise floor of the comparison).
  const poolB0 = { introspect: tokenPool(await mint(B)), cold: tokenPool(await mint(B)) };
  result.steps.push({ stored: 0, rows: await compare(A, B, poolA, poolB0, `${db} 0`) });

  // Steps: load B up to each stored count in turn (--n 1000000,10000000), restart it on its
  // store, compare. Each load goes before the previous one in time (--end), like older tokens.
  const sampleFile = path.join(os.tmpdir(), `growth-sample-${process.pid}-${db}.json`);
  result.loads = [];
  let live = 0;
  let end;
  let poolB;
  for (const [k, target] of opt.n.split(',').map(Number).entries()) {
    const expired = k === 0 ? opt.expired : '0';
    const loadArgs = [path.join(ROOT, 'bench/growth/load.mjs'), '--n', String(target - live), '--expired', expired, `--app-id=${B.info.applicationId}`, `--consumer-key=${B.info.consumerKey}`, '--sample', String(need * 2), '--sample-out', sampleFile,
      ...(end ? ['--end', String(end)] : []), ...(db === 'postgres' ? ['--pg-url', B.env.BENCH_DATABASE_URL] : ['--data-dir', B.env.BENCH_DATA_DIR])];
    log(`${db}: loading ${target - live} live + ${expired} expired tokens into B …`);
    const { stdout } = await run(process.execPath, loadArgs, { cwd: ROOT, maxBuffer: 1 << 26 });
    const load = JSON.parse(stdout.trim().split('\n').pop());
    result.loads.push(load);
    end = load.firstIssued;
    live = target;
    log(`${db}: loaded ${load.rows} rows in ${load.seconds.toFixed(0)} s (${load.rowsPerSecond.toFixed(0)} rows/s)`);
    const dbFile = db === 'sqlite' ? path.join(B.env.BENCH_DATA_DIR, 'gatehouse.db') : undefined;
    load.settle = await settle(dbFile);
    log(`${db}: ${load.settle.dirtyMB} MB not yet on disk after the load, written in ${load.settle.seconds.toFixed(0)} s${dbFile ? `; store ${load.settle.fileMB} MB, ${load.settle.residentMB ?? '?'} MB of it in the page cache${opt['no-warm-cache'] ? '' : ` after reading it once (${load.settle.residentBeforeMB} MB before)`}` : ''}`);
    // B restarts on its loaded store: its heap holds no leftovers of the minting above, so its RSS
    // is a node's that has this many tokens stored (and its own caches start cold; the OS page
    // cache holds the store, see settle()).
    await B.restart();
    const sample = JSON.parse(readFileSync(sampleFile, 'utf8'));
    rmSync(sampleFile, { force: true });
    const half = sample.length >> 1;
    poolB = { introspect: tokenPool(sample.slice(0, half)), cold: tokenPool(sample.slice(half)) };
    // A has served every scenario since it started; B has just restarted: its code paths warm up
    // the same way before anything is measured (else B's first round pays for the JIT).
    for (const t of Object.values(scenarios(B, poolB))) await (t.nextHeaders ? coldCannon(t, WARMUP * 2) : cannon({ ...t, connections: Number(opt.connections), duration: WARMUP * 2 }));
    // A gets fresh tokens too: the cold ones it saw in the step before are in its cache now.
    poolA.introspect = tokenPool(await mint(A));
    poolA.cold = tokenPool(await mint(A));
    const stored = result.loads.reduce((a, l) => a + l.rows, 0);
    result.steps.push({ stored, rows: await compare(A, B, poolA, poolB, `${db} ${stored}`) });
    if (dbFile) {
      load.settle.residentAfterMB = await residentMB(dbFile);
      log(`${db}: ${load.settle.residentAfterMB} MB of the store in the page cache after the step`);
    }
  }
  result.rssAfterMB = rssBytes(B.pid) / 2 ** 20;
  result.loader = { rows: result.loads.reduce((a, l) => a + l.rows, 0), seconds: result.loads.reduce((a, l) => a + l.seconds, 0) };
  result.loader.rowsPerSecond = result.loader.rows / result.loader.seconds;

  // Cleanup: B's issuance p99 while a cleanup pass deletes the expired rows, against A at the same time.
  const t = scenarios(B, poolB).issuance;
  const ta = scenarios(A, poolA).issuance;
  const quiet = await once(t, B.pid);
  const aQuiet = await once(ta, A.pid);
  const pass = B.call({ op: 'cleanup' });
  const during = await cannon({ ...t, connections: Number(opt.connections), duration: DURATION });
  const cleaned = await pass;
  const aAfter = await once(ta, A.pid);
  result.cleanup = { deleted: cleaned.deleted.access_tokens, ms: cleaned.ms, quietP99: quiet.p99, duringP99: during.p99, quietRps: quiet.rps, duringRps: during.rps, emptyP99: median([aQuiet.p99, aAfter.p99]) };
  log(`${db}: cleanup deleted ${cleaned.deleted.access_tokens} in ${cleaned.ms.toFixed(0)} ms; issuance p99 ${quiet.p99} ms quiet, ${during.p99} ms during the pass`);
  await A.stop();
  await B.stop();
  return result;
}

/** MB of the page cache not yet written to disk (Dirty + Writeback in /proc/meminfo). */
function unwrittenMB() {
  const m = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(m)?.[1] ?? 0);
  return Math.round((kb('Dirty') + kb('Writeback')) / 1024);
}

/**
 * Puts the load on disk (sync) before B is measured, so that no writeback of it shares the
 * cores and the disk with the measurement (a node storing tokens at its own rate never has
 * gigabytes to write at once); reports what was still unwritten (11 MB after a 10 M-row SQLite
 * load here: the loader's commits had written it) and how long the sync took.
 */
async function settle(dbFile) {
  const dirtyMB = unwrittenMB();
  const t0 = performance.now();
  await run('sync', []);
  const out = { dirtyMB, seconds: (performance.now() - t0) / 1000 };
  if (dbFile) {
    // A SQLite store is read through the OS page cache. This machine (a VM) reclaims page cache
    // it deems cold even with most of its memory free (a 4.2 GB store read once: 4.1 GB resident,
    // 3.7 GB a minute later, 0.5 GB after a growth step), and a lookup of a page it dropped is a
    // read from the virtual disk. Read once, so B is measured with its store cached as on a
    // machine with memory to spare; --no-warm-cache measures it as the machine leaves it.
    out.fileMB = Math.round(statSync(dbFile).size / 2 ** 20);
    out.residentBeforeMB = await residentMB(dbFile);
    if (!opt['no-warm-cache']) await run('dd', [`if=${dbFile}`, 'of=/dev/null', 'bs=4M']);
    out.residentMB = await residentMB(dbFile);
    out.warmed = !opt['no-warm-cache'];
  }
  return out;
}

/** MB of a file in the page cache (util-linux fincore), or null where it is missing. */
async function residentMB(file) {
  try {
    const { stdout } = await run('fincore', ['--bytes', '--noheadings', '--output', 'RES', file]);
    return Math.round(Number(stdout.trim()) / 2 ** 20);
  } catch {
    return null;
  }
}

function previousResults(running) {
  try {
    const prev = JSON.parse(readFileSync(path.join(opt.out, 'growth.json'), 'utf8'));
    return prev.results.filter((r) => !running.includes(r.db)).map((r) => ({ ...r, ranAt: r.ranAt ?? prev.machine.date, loadavg: r.loadavg ?? prev.machine.loadavg }));
  } catch {
    return [];
  }
}

function markdown(out) {
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const L = [`Growth run ${out.machine.date.slice(0, 16).replace('T', ' ')} UTC · ${out.machine.cpu} × ${out.machine.nproc} · Node ${out.machine.node} · load ${out.machine.loadavg.join(' ')}${out.loadavgEnd ? ` → ${out.loadavgEnd.join(' ')}` : ''}`, '',
    ...out.results.map((g) => `- ${g.db}: measured ${String(g.ranAt ?? out.machine.date).slice(0, 16).replace('T', ' ')} UTC, load ${(g.loadavg ?? out.machine.loadavg).join(' ')} at its start`), '',
    `Node B holds the stored tokens, node A an empty store; ${ROUNDS} interleaved rounds, ${WARMUP} s + ${DURATION} s each, ${opt.connections} connections. Aim: rate ≥ 0.9×, p99 ≤ 1.2× the empty store.`, '',
    '| DB | stored | scenario | empty req/s | loaded req/s | rate ratio | CPU µs/req empty → loaded | CPU efficiency ratio | empty p99 ms | loaded p99 ms | p99 ratio | loaded peak RSS MB |', '|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|'];
  for (const g of out.results) for (const s of g.steps) for (const r of s.rows) {
    L.push(`| ${g.db} | ${s.stored.toLocaleString('en')} | ${r.scenario} | ${f(r.emptyRps)} | ${f(r.loadedRps)} | ${f(r.rpsRatio, 2)}× | ${f(r.emptyCpu)} → ${f(r.loadedCpu)} | ${f(r.cpuRatio, 2)}× | ${f(r.emptyP99)} | ${f(r.loadedP99)} | ${f(r.p99Ratio, 2)}× | ${f(r.loadedPeakRssMB)} |`);
  }
  L.push('', '| DB | loader rows/s | cleanup: rows deleted | pass ms | issuance p99 quiet → during (ms) | req/s quiet → during |', '|---|---:|---:|---:|---|---|');
  for (const g of out.results) {
    L.push(`| ${g.db} | ${f(g.loader.rowsPerSecond)} | ${g.cleanup.deleted} | ${f(g.cleanup.ms)} | ${g.cleanup.quietP99} → ${g.cleanup.duringP99} | ${f(g.cleanup.quietRps)} → ${f(g.cleanup.duringRps)} |`);
  }
  const cached = out.results.flatMap((g) => (g.loads ?? []).filter((l) => l.settle?.fileMB).map((l, i, all) => `- ${g.db}, with ${all.slice(0, i + 1).reduce((a, x) => a + x.rows, 0).toLocaleString('en')} rows stored: store ${l.settle.fileMB} MB, in the OS page cache ${l.settle.residentBeforeMB ?? '–'} MB${l.settle.warmed ? `, ${l.settle.residentMB ?? '–'} MB after reading it once` : ' (not read first: --no-warm-cache)'}, ${l.settle.residentAfterMB ?? '–'} MB after the step`));
  if (cached.length) L.push('', 'Page cache (util-linux `fincore`; this VM reclaims page cache it deems cold even with memory free):', ...cached);
  return `${L.join('\n')}\n`;
}

async function main() {
  const info = machine();
  const backend = await (async () => {
    const { fork } = await import('node:child_process');
    const child = fork(path.join(ROOT, 'bench/gateway/backend.mjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const m = await new Promise((r) => child.once('message', r));
    stops.push(async () => child.kill('SIGTERM'));
    return `http://127.0.0.1:${m.port}`;
  })();
  const results = [];
  const out = { machine: info, n: opt.n.split(',').map(Number), settings: { rounds: ROUNDS, warmup: WARMUP, duration: DURATION, connections: Number(opt.connections), expired: Number(opt.expired) }, results };
  mkdirSync(opt.out, { recursive: true });
  // --merge: the databases not run this time keep their results from growth.json (with their run's machine line).
  const kept = opt.merge ? previousResults(opt.db.split(',')) : [];
  // Written after each database, so a failure later keeps what was measured.
  for (const db of opt.db.split(',')) {
    results.push(await growth(db, backend));
    out.loadavgEnd = machine().loadavg;
    const all = { ...out, results: [...kept, ...results] };
    writeFileSync(path.join(opt.out, 'growth.json'), `${JSON.stringify(all, null, 2)}\n`);
    writeFileSync(path.join(opt.out, 'growth.md'), markdown(all));
  }
  console.log(`\n${markdown({ ...out, results: [...kept, ...results] })}`);
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

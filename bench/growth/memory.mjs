#!/usr/bin/env node
// Resident memory of a node under load, and what it is made of: one Gatehouse node on a SQLite
// store bulk-loaded with --n tokens (load.mjs), restarted on it, then issuance and cold gateway
// validations (a stored token the gateway has not seen per request) at 50 connections. Peak RSS
// (sampled every 100 ms) with the heap, external and array-buffer figures of that moment, for
// each set of node flags given (`--variant=--max-semi-space-size=4`, repeatable; `none`: no flags;
// `start`, the default: the flags of `npm start`; `cache=N`: those flags and a token cache of N MiB,
// gateway.tokenCacheMegabytes),
// in interleaved rounds.
//   npm run build && node bench/growth/memory.mjs [--n 200000] [--variant start|none] [--variant=--flag …] [--duration 8]
import { execFile, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import { cannon, cpuMicros, forkReady, GATEHOUSE_NODE_FLAGS, ROOT, rssBytes } from '../suite/lib.mjs';

const { values: o } = parseArgs({ options: { n: { type: 'string', default: '200000' }, variant: { type: 'string', multiple: true, default: ['start'] }, duration: { type: 'string', default: '8' }, rounds: { type: 'string', default: '2' }, connections: { type: 'string', default: '50' } } });
const D = Number(o.duration);
const backend = fork(path.join(ROOT, 'bench/gateway/backend.mjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
const { port } = await new Promise((r) => backend.once('message', r));
const env = { BACKEND_URL: `http://127.0.0.1:${port}`, BENCH_REUSE: '1', BENCH_CLEANUP_SECONDS: '86400', BENCH_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'gatehouse-memory-')) };
const script = path.join(ROOT, 'bench/suite/gatehouse-server.mjs');
let s = await forkReady(script, { env });
const sampleFile = path.join(os.tmpdir(), `memory-sample-${process.pid}.json`);
const sampleSize = 40000 * Number(o.rounds) * o.variant.length;
await promisify(execFile)(process.execPath, [path.join(ROOT, 'bench/growth/load.mjs'), '--n', o.n, '--data-dir', env.BENCH_DATA_DIR, `--app-id=${s.info.applicationId}`, `--consumer-key=${s.info.consumerKey}`, '--sample', String(sampleSize), '--sample-out', sampleFile], { cwd: ROOT, maxBuffer: 1 << 26 });
await s.stop();
const sample = JSON.parse(readFileSync(sampleFile, 'utf8'));
rmSync(sampleFile, { force: true });
let next = 0;

/** Peak RSS while `run` runs, with the process's memoryUsage() taken at the peak's sample. */
async function peakOf(srv, run) {
  let peak = { rss: 0 };
  let busy = false;
  const t = setInterval(async () => {
    if (busy) return;
    busy = true;
    const rss = rssBytes(srv.pid);
    if (rss > peak.rss) peak = { rss, ...(await srv.call({ op: 'cpu' })).memory, rss };
    busy = false;
  }, 100);
  const c0 = cpuMicros(srv.pid);
  const r = await run();
  clearInterval(t);
  return { ...r, cpuPerReq: (cpuMicros(srv.pid) - c0) / r.requests, peak };
}

const scenarios = {
  issuance: (srv) => cannon({ url: `${srv.info.http}/token`, headers: { authorization: srv.info.basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials', connections: Number(o.connections), duration: D }),
  'cold validation': async (srv) => {
    const r = await autocannon({ url: `${srv.info.http}${srv.info.gatewayPath}`, method: 'GET', connections: Number(o.connections), duration: D, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${sample[next++ % sample.length]}` } }) }] });
    return { requests: r.requests.total, rps: r.requests.total / r.duration, p99: r.latency.p99, non2xx: r.non2xx };
  },
};
const MB = (b) => (b / 2 ** 20).toFixed(0);
const rows = [];
for (let round = 0; round < Number(o.rounds); round++) {
  const order = round % 2 ? [...o.variant].reverse() : o.variant;
  for (const variant of order) {
    const cacheMb = /^cache=(\d+)$/.exec(variant)?.[1];
    const execArgv = variant === 'start' || cacheMb ? GATEHOUSE_NODE_FLAGS : variant === 'none' ? [] : variant.split(' ');
    s = await forkReady(script, { env: cacheMb ? { ...env, BENCH_TOKEN_CACHE_MB: cacheMb } : env, execArgv });
    const idle = rssBytes(s.pid);
    for (const [name, run] of Object.entries(scenarios)) {
      const r = await peakOf(s, () => run(s));
      const row = { variant, scenario: name, round: round + 1, rps: Math.round(r.rps), cpuPerReq: Math.round(r.cpuPerReq), p99: r.p99, idleMB: MB(idle), peakRssMB: MB(r.peak.rss), heapTotalMB: MB(r.peak.heapTotal ?? 0), heapUsedMB: MB(r.peak.heapUsed ?? 0), externalMB: MB(r.peak.external ?? 0), arrayBuffersMB: MB(r.peak.arrayBuffers ?? 0), failed: r.non2xx };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    await s.stop();
  }
}
backend.kill();
rmSync(env.BENCH_DATA_DIR, { recursive: true, force: true });
process.exit(0);

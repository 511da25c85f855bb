// Helpers of the benchmark suite: forked servers that announce themselves over IPC, autocannon
// runs (with single-use credentials fed per request), peak RSS sampling from /proc, nginx.
import { execFileSync, fork, spawn } from 'node:child_process';
import { once, setMaxListeners } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Client } from 'undici';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

const children = new Set();
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ } });

/**
 * The node flags `npm start` runs Gatehouse with (package.json scripts.start, before the
 * script): every Gatehouse node a bench starts gets them, so it measures what users run.
 */
export const GATEHOUSE_NODE_FLAGS = (() => {
  // BENCH_GATEHOUSE_NODE_FLAGS (space-separated; 'none' for no flags): other flags, to compare.
  const override = process.env.BENCH_GATEHOUSE_NODE_FLAGS;
  if (override !== undefined) return override === 'none' ? [] : override.split(/\s+/).filter(Boolean);
  const start = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
  return start.slice(0, start.indexOf('dist/')).split(/\s+/).filter((t) => t.startsWith('--'));
})();

/**
 * Forks a node script that sends {ready: true, …} once listening; `call(msg)` is an IPC request/response.
 * A Gatehouse node (gatehouse-server.mjs) gets {@link GATEHOUSE_NODE_FLAGS} unless `execArgv` says otherwise.
 */
export function forkReady(script, { env = {}, execArgv = path.basename(script) === 'gatehouse-server.mjs' ? GATEHOUSE_NODE_FLAGS : [], timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { cwd: ROOT, env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    children.add(child);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    const timer = setTimeout(() => reject(new Error(`${script}: not ready within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    const onExit = (code) => { clearTimeout(timer); reject(new Error(`${script} exited (${code}) before it was ready\n${stderr}`)); };
    child.once('exit', onExit);
    let seq = 0;
    const waiting = new Map();
    child.on('message', (m) => {
      if (m?.ready) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({
          info: m,
          pid: child.pid,
          call: (msg) => new Promise((res, rej) => { const id = ++seq; waiting.set(id, { res, rej }); child.send({ ...msg, id }); }),
          stop: async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = once(child, 'exit');
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
            await exited;
            clearTimeout(t);
            children.delete(child);
          },
        });
      } else if (m?.id && waiting.has(m.id)) {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.error) w.rej(new Error(m.error));
        else w.res(m);
      }
    });
  });
}

/** Resident set size of a process (and its direct children, for nginx), in bytes. */
export function rssBytes(pid) {
  const one = (p) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch { return 0; }
  };
  let total = one(pid);
  try {
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) total += one(c);
  } catch { /* no children */ }
  return total;
}

/** Samples the RSS of `pid` every 100 ms until stopped; resolves with the peak. */
export function rssPeak(pid) {
  if (!pid) return { stop: () => NaN };
  let peak = rssBytes(pid);
  const t = setInterval(() => { peak = Math.max(peak, rssBytes(pid)); }, 100);
  return { stop: () => { clearInterval(t); return Math.max(peak, rssBytes(pid)); } };
}

/**
 * One autocannon run. `next` (optional) returns the body of each request: single-use
 * credentials (codes, refresh tokens, tokens to revoke) are handed out one per request.
 */
export async function cannon({ url, method = 'POST', headers, body, next, connections, duration }) {
  const requests = next ? [{ method, setupRequest: (req) => ({ ...req, body: next() }) }] : undefined;
  const r = await autocannon({ url, method, headers, body, requests, connections, duration, pipelining: 1, timeout: 30 });
  return {
    requests: r.requests.total,
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

/** The nearest-rank percentile `p` (0…1) of ascending `sorted`. */
export const rank = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]);

/**
 * Latency at a fixed offered load: `connections` keep-alive connections (one undici Client
 * each, taken in turn, kept across runs) sending `rate` requests/s in all, open loop (a request
 * goes out when it is due, answered or not), for `duration` seconds. Each latency is from the
 * moment the request was due (so a stall of the sender or the server that delays sending counts)
 * to the end of the response body, at µs resolution; results in ms. A request not answered
 * within `duration` + 10 s is aborted and counted as failed, like one whose body breaks off.
 * At saturation (autocannon above) p99 is mostly queueing: a server with 10 % less throughput
 * holds a longer queue. Below saturation, at the same rate for every
 * target, p99 is what the server adds to a request.
 */
export function pacer(url, connections) {
  const u = new URL(url);
  const path = u.pathname + u.search;
  const clients = Array.from({ length: connections }, () => new Client(u.origin, { pipelining: 1, keepAliveTimeout: 600_000, keepAliveMaxTimeout: 600_000, headersTimeout: 30_000, bodyTimeout: 30_000 }));
  return {
    async run({ method = 'GET', headers, rate, duration }) {
      const total = Math.round(rate * duration);
      const lat = new Float64Array(total);
      let sent = 0;
      let done = 0;
      let failed = 0;
      const t0 = performance.now();
      const abort = new AbortController();
      setMaxListeners(0, abort.signal); // one listener per request in flight
      const deadline = setTimeout(() => abort.abort(), (duration + 10) * 1000);
      await new Promise((resolve) => {
        const finish = () => { if (++done === total) resolve(); };
        const tick = () => {
          const due = Math.min(total, Math.ceil(((performance.now() - t0) * rate) / 1000));
          while (sent < due) {
            const i = sent++;
            const at = t0 + (i * 1000) / rate;
            clients[i % connections].request({ path, method, headers, signal: abort.signal }).then(async (res) => {
              for await (const _ of res.body); // rejects when the body breaks off (dump() would not)
              if (res.statusCode < 200 || res.statusCode > 299) failed++;
              lat[i] = performance.now() - at;
            }).catch(() => { lat[i] = NaN; failed++; }).finally(finish);
          }
          if (sent < total) setTimeout(tick, 1);
        };
        tick();
      });
      clearTimeout(deadline);
      const sorted = Array.from(lat).filter(Number.isFinite).sort((a, b) => a - b);
      return { requests: total, rps: total / ((performance.now() - t0) / 1000), p50: rank(sorted, 0.5), p99: rank(sorted, 0.99), failed, lat: sorted };
    },
    close: () => Promise.all(clients.map((c) => c.close())),
  };
}

export function machine() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    nproc: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}

export const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export async function freePort() {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitPort(port, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} not listening`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function findNginx() {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx']) if (existsSync(p)) return p;
  try { return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || undefined; } catch { return undefined; }
}

/** nginx proxy_pass (1 worker, upstream keepalive, no access log, no buffering) as in bench/gateway. */
export async function startNginx(backendUrl) {
  const bin = findNginx();
  if (!bin) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-nginx-'));
  const port = await freePort();
  writeFileSync(path.join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream backend { server ${new URL(backendUrl).host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000000;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_request_buffering off; }
  }
}
`);
  const child = spawn(bin, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'ignore'] });
  children.add(child);
  await waitPort(port);
  return {
    info: { http: `http://127.0.0.1:${port}` },
    pid: child.pid,
    stop: async () => { child.kill('SIGTERM'); await once(child, 'exit'); children.delete(child); rmSync(dir, { recursive: true, force: true }); },
  };
}

/** user + system CPU time of a process and its direct children, µs, from /proc (100 ticks/s). */
export function cpuMicros(pid) {
  const ticks = (p) => {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return Number(rest[11]) + Number(rest[12]);
    } catch { return 0; }
  };
  let total = ticks(pid);
  try {
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) total += ticks(c);
  } catch { /* no children */ }
  return total * 10_000;
}

#!/usr/bin/env node
// Gateway bench: bare undici proxy vs the gateway vs nginx, one loopback backend.
//   node bench/gateway/run.mjs [--rounds 3] [--seconds 4] [--warmup 3] [--connections 50] [--raw] [--no-build]
// Each target gets `rounds` × `seconds` of autocannon load (default 3 × 4 s = 12 s), rounds
// interleaved (bare, gateway, nginx, bare, …) so drifting load from other processes on the
// machine hits every target alike; the table shows medians. Writes bench/gateway/results.md.
import { execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Client } from 'undici';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i === -1 ? dflt : Number(args[i + 1]); };
const ROUNDS = opt('rounds', 3);
const SECONDS = opt('seconds', 4);
const WARMUP = opt('warmup', 3);
const CONNECTIONS = opt('connections', 50);
const PROBES = opt('probes', 5000);
const TOKEN = 'bench-token-' + Math.random().toString(36).slice(2);
const CLK_TCK = 100;

if (!args.includes('--no-build')) {
  console.log('building (tsc) …');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
}
if (!existsSync(join(root, 'dist/gateway/index.js'))) throw new Error('dist/gateway/index.js missing: run npm run build');

const children = [];
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch {} });

/** Starts a node child that reports {port} over IPC and answers 'cpu' with its process.cpuUsage(). */
function startNode(script, env = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, script), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    const onExit = (code) => reject(new Error(`${script} exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (m) => resolve({
      port: m.port,
      token: m.token,
      cpuMicros: async () => { child.send('cpu'); const [r] = await once(child, 'message'); return r.cpu.user + r.cpu.system; },
      stop: () => new Promise((r) => { child.off('exit', onExit); child.once('exit', r); child.kill('SIGTERM'); }),
    }));
  });
}

function freePort() {
  return new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
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
function findNginx() {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx']) if (existsSync(p)) return p;
  try { return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || undefined; } catch { return undefined; }
}
/** utime + stime of a process and its direct children (nginx master + worker), µs, from /proc. */
function procCpuMicros(pid) {
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
  } catch {}
  return total * (1e6 / CLK_TCK);
}

async function startNginx(backendPort) {
  const bin = findNginx();
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000000;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`);
  const child = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  await waitPort(port);
  return {
    port,
    cpuMicros: async () => procCpuMicros(child.pid),
    stop: async () => { child.kill('SIGTERM'); await once(child, 'exit'); rmSync(dir, { recursive: true, force: true }); },
  };
}

/**
 * Unloaded latency: one keep-alive connection per target, sequential requests, µs
 * resolution; batches of 250 requests interleaved across targets so that bursts of
 * load from elsewhere on the machine land on every target alike.
 */
async function probeAll(list) {
  const clients = list.map((t) => new Client(`http://127.0.0.1:${t.proc.port}`, { pipelining: 1 }));
  const samples = list.map(() => []);
  const one = async (i, keep) => {
    const t = list[i];
    const t0 = process.hrtime.bigint();
    const r = await clients[i].request({ path: t.path, method: 'GET', headers: t.headers });
    await r.body.dump();
    if (r.statusCode !== 200) throw new Error(`probe ${t.name}: ${r.statusCode}`);
    if (keep) samples[i].push(Number(process.hrtime.bigint() - t0) / 1000);
  };
  for (let i = 0; i < list.length; i++) for (let k = 0; k < 300; k++) await one(i, false);
  for (let b = 0; b < Math.ceil(PROBES / 250); b++) {
    for (let i = 0; i < list.length; i++) for (let k = 0; k < 250; k++) await one(i, true);
  }
  await Promise.all(clients.map((c) => c.close()));
  return samples.map((xs) => {
    xs.sort((a, b) => a - b);
    const q = (p) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];
    return { p50: q(0.5), p90: q(0.9), p99: q(0.99) };
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const backend = await startNode('backend.mjs');
const BACKEND_URL = `http://127.0.0.1:${backend.port}`;
const auth = { authorization: `Bearer ${TOKEN}` };
const targets = [
  { name: 'backend direct (no proxy)', proc: backend, path: '/hello?x=1', headers: {} },
  { name: 'bare undici proxy (reference)', key: 'bare', proc: await startNode('bare-proxy.mjs', { BACKEND_URL }), path: '/hello?x=1', headers: {} },
  { name: 'gatehouse gateway (fastify + plugin)', key: 'gateway', proc: await startNode('gateway-server.mjs', { BACKEND_URL, BENCH_TOKEN: TOKEN }), path: '/bench/v1/hello?x=1', headers: auth },
];
// The whole node as `gatehouse start` runs it: DB-backed store (SQLite), metrics, every listener.
const node = await startNode('node-server.mjs', { BACKEND_URL });
targets.push({ name: 'gatehouse node (real server, SQLite)', key: 'node', proc: node, path: '/bench/v1/hello?x=1', headers: { authorization: `Bearer ${node.token}` } });
if (args.includes('--raw')) {
  targets.push({ name: 'gateway handler without fastify', proc: await startNode('gateway-server.mjs', { BACKEND_URL, BENCH_TOKEN: TOKEN, GATEWAY_RAW: '1' }), path: '/bench/v1/hello?x=1', headers: auth });
}
let nginxNote = '';
const ngx = await startNginx(backend.port);
if (ngx) targets.push({ name: 'nginx proxy_pass (1 worker)', proc: ngx, path: '/hello?x=1', headers: {} });
else { nginxNote = 'nginx is not installed: its row was skipped (`apt-get install -y nginx`).'; console.log(nginxNote); }

for (const t of targets) {
  t.runs = [];
  const r = await fetch(`http://127.0.0.1:${t.proc.port}${t.path}`, { headers: t.headers });
  if (r.status !== 200) throw new Error(`${t.name}: ${r.status} ${await r.text()}`);
  await autocannon({ url: `http://127.0.0.1:${t.proc.port}${t.path}`, connections: CONNECTIONS, duration: WARMUP, headers: t.headers });
}
const loadBefore = loadavg()[0];
console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (let round = 0; round < ROUNDS; round++) {
  for (const t of targets) {
    const c0 = await t.proc.cpuMicros();
    const b0 = t.proc === backend ? 0 : await backend.cpuMicros();
    const r = await autocannon({ url: `http://127.0.0.1:${t.proc.port}${t.path}`, connections: CONNECTIONS, duration: SECONDS, headers: t.headers });
    const c1 = await t.proc.cpuMicros();
    const run = { rps: r.requests.average, p99: r.latency.p99, cpu: (c1 - c0) / r.requests.total, errors: r.errors + r.timeouts, non2xx: r.non2xx };
    t.runs.push(run);
    console.log(`round ${round + 1} ${t.name.padEnd(38)} ${run.rps.toFixed(0).padStart(7)} req/s  p99 ${run.p99} ms  ${run.cpu.toFixed(1)} µs CPU/req  errors ${run.errors} non2xx ${run.non2xx}`);
    void b0;
  }
}
const lats = await probeAll(targets);
targets.forEach((t, i) => {
  t.lat = lats[i];
  console.log(`unloaded ${t.name.padEnd(38)} p50 ${t.lat.p50.toFixed(0)} µs  p90 ${t.lat.p90.toFixed(0)} µs  p99 ${t.lat.p99.toFixed(0)} µs`);
});
console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const t of targets) if (t.proc !== backend) await t.proc.stop();
await backend.stop();

const sum = (t) => ({
  rps: median(t.runs.map((r) => r.rps)), p99: median(t.runs.map((r) => r.p99)), cpu: median(t.runs.map((r) => r.cpu)),
  errors: t.runs.reduce((a, r) => a + r.errors, 0), non2xx: t.runs.reduce((a, r) => a + r.non2xx, 0),
});
for (const t of targets) t.s = sum(t);
const ref = targets.find((t) => t.key === 'bare');
// paired ratios: target vs bare within the same round (adjacent in time), then the median
for (const t of targets) {
  t.s.rpsRatio = median(t.runs.map((r, i) => r.rps / ref.runs[i].rps));
  t.s.cpuRatio = median(t.runs.map((r, i) => ref.runs[i].cpu / r.cpu));
}
const gw = targets.find((t) => t.key === 'gateway');
const f0 = (n) => n.toFixed(0);
const lines = [
  '# Gateway bench results',
  '',
  `${new Date().toISOString()} · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, shared with other work (1-min load average ${loadBefore.toFixed(1)} before the rounds, ${loadavg()[0].toFixed(1)} after) · autocannon ${CONNECTIONS} connections, ${WARMUP} s warm-up, then ${ROUNDS} interleaved rounds × ${SECONDS} s per target (medians shown) · small JSON body (${'{"ok":true,"service":"bench-backend","n":42}'.length} B) from a loopback node backend · unloaded latency: ${PROBES} sequential requests per target on one keep-alive connection, in batches of 250 interleaved across targets.`,
  '',
  'Backend, proxy and load generator share the cores, so absolute req/s are low and swing with whatever else runs; **CPU µs per request** (the proxy process\'s own user+system time divided by the requests it served) is the steadier efficiency figure, and its ratio is what throughput would be if the proxy were the only thing on the CPU.',
  '',
  'Per-round figures (req/s · CPU µs/req):',
  '',
  ...targets.map((t) => `- ${t.name}: ${t.runs.map((r) => `${f0(r.rps)} · ${r.cpu.toFixed(1)}`).join(' | ')}`),
  '',
  '| target | req/s | p99 ms @ load | proxy CPU µs/req | req/s vs bare (paired median) | CPU efficiency vs bare (paired median) | unloaded p50 µs | unloaded p90 µs | unloaded p99 µs | unloaded p99 added vs bare |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...targets.map((t) => {
    const direct = t.proc === backend;
    return `| ${t.name} | ${f0(t.s.rps)} | ${t.s.p99} | ${direct ? `(backend) ${t.s.cpu.toFixed(1)}` : t.s.cpu.toFixed(1)} | ${t.s.rpsRatio.toFixed(2)}× | ${direct ? '—' : `${t.s.cpuRatio.toFixed(2)}×`} | ${f0(t.lat.p50)} | ${f0(t.lat.p90)} | ${f0(t.lat.p99)} | ${t === ref || direct ? '—' : `${t.lat.p99 - ref.lat.p99 >= 0 ? '+' : ''}${f0(t.lat.p99 - ref.lat.p99)} µs`} |`;
  }),
  '',
  `Targets: gateway ≥ 0.90× the bare proxy: **${gw.s.rpsRatio.toFixed(2)}×** req/s and **${gw.s.cpuRatio.toFixed(2)}×** CPU efficiency (medians of the per-round ratios; ratios of the column medians: ${(gw.s.rps / ref.s.rps).toFixed(2)}× and ${(ref.s.cpu / gw.s.cpu).toFixed(2)}×); p99 added < 1 ms: **${f0(gw.lat.p99 - ref.lat.p99)} µs** unloaded, ${gw.s.p99 - ref.s.p99} ms at ${CONNECTIONS} connections (autocannon's 1 ms resolution).`,
  `The whole node (\`gatehouse start\`: DB-backed store, metrics, every listener): **${targets.find((t) => t.key === 'node').s.rpsRatio.toFixed(2)}×** req/s and **${targets.find((t) => t.key === 'node').s.cpuRatio.toFixed(2)}×** CPU efficiency vs the bare proxy; unloaded p99 added ${f0(targets.find((t) => t.key === 'node').lat.p99 - ref.lat.p99)} µs.`,
  `Errors: ${targets.map((t) => `${t.name.split(' ')[0]} ${t.s.errors}/${t.s.non2xx} non-2xx`).join(', ')}.`,
  nginxNote ? `\n${nginxNote}` : '',
  '',
];
writeFileSync(join(here, 'results.md'), lines.join('\n'));
console.log(`\nwrote ${join(here, 'results.md')}`);
process.exit(0);

#!/usr/bin/env node
// CPU profile of one proxy under load: node bench/gateway/profile.mjs [gateway|node|bare] [seconds]
// Needs a build (npm run build). Prints the top self-time functions; the .cpuprofile
// (open in Chrome DevTools) is left in the printed directory.
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const which = process.argv[2] ?? 'gateway';
const seconds = Number(process.argv[3] ?? 6);
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-prof-'));
const start = (s, env, execArgv = []) => new Promise((res, rej) => {
  const c = fork(join(here, s), [], { env: { ...process.env, ...env }, execArgv });
  c.once('message', (m) => res({ port: m.port, token: m.token, c }));
  c.once('exit', (code) => rej(new Error(`${s} exited ${code}`)));
});
const backend = await start('backend.mjs', {});
const script = which === 'bare' ? 'bare-proxy.mjs' : which === 'node' ? 'node-server.mjs' : 'gateway-server.mjs';
const path = which === 'bare' ? '/hello?x=1' : '/bench/v1/hello?x=1';
const proxy = await start(script, { BACKEND_URL: `http://127.0.0.1:${backend.port}`, BENCH_TOKEN: 'tok' }, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
const token = proxy.token ?? 'tok';
const r = await autocannon({ url: `http://127.0.0.1:${proxy.port}${path}`, connections: 50, duration: seconds, headers: { authorization: `Bearer ${token}` } });
console.log(`${which}: ${r.requests.average.toFixed(0)} req/s p99 ${r.latency.p99} ms non2xx ${r.non2xx}`);
proxy.c.removeAllListeners('exit');
await new Promise((res) => { proxy.c.once('exit', res); proxy.c.kill('SIGINT'); });
backend.c.removeAllListeners('exit');
backend.c.kill();
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) { console.log('no profile written'); process.exit(1); }
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
const self = new Map();
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
let total = 0;
for (const n of prof.nodes) {
  const t = dt.get(n.id) ?? 0;
  total += t;
  const cf = n.callFrame;
  const key = `${cf.functionName || '(anon)'} ${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/wt-gateway\//, '')}:${cf.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + t);
}
// inclusive time of the functions named in INCL (comma-separated)
if (process.env.INCL) {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const incl = (n) => (dt.get(n.id) ?? 0) + (n.children ?? []).reduce((a, c) => a + incl(byId.get(c)), 0);
  for (const name of process.env.INCL.split(',')) {
    let t = 0;
    const walk = (n, inside) => {
      const hit = n.callFrame.functionName === name;
      if (hit && !inside) t += incl(n);
      for (const c of n.children ?? []) walk(byId.get(c), inside || hit);
    };
    walk(prof.nodes[0], false);
    console.log(`inclusive ${(100 * t / total).toFixed(1).padStart(5)}%  ${name}`);
  }
}
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40));
for (const [k, t] of top) console.log(`${(100 * t / total).toFixed(1).padStart(5)}%  ${k}`);
console.log(`profile: ${join(dir, file)}`);
process.exit(0);

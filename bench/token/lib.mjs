// Helpers shared by the token benchmark scripts: free ports, child processes that announce
// themselves with one JSON line, the Gatehouse CLI, autocannon runs and machine facts.
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');

/** A free loopback TCP port (the OS picks it; released before use, a tiny race we accept). */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Spawns `node …args` and resolves with the first stdout line that parses as JSON and passes
 * `accept`. All output also goes to `logFile`. Rejects if the child exits first or times out.
 */
export async function spawnAnnounced(args, { env = {}, logFile, accept = () => true, timeoutMs = 30_000, cwd = ROOT } = {}) {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = logFile ? createWriteStream(logFile) : undefined;
  child.stderr.on('data', (d) => log?.write(d));
  let buf = '';
  const announced = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no announcement within ${timeoutMs} ms (log: ${logFile})`)), timeoutMs);
    child.stdout.on('data', (d) => {
      log?.write(d);
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const obj = JSON.parse(line);
          if (accept(obj)) {
            clearTimeout(timer);
            resolve(obj);
          }
        } catch {
          /* not JSON: a log line */
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}) before announcing itself (log: ${logFile})`));
    });
  });
  const info = await announced;
  return {
    child,
    info,
    /** SIGTERM, then wait for the exit (SIGKILL after graceMs). */
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
      log?.end();
    },
  };
}

/** Runs a child to completion; resolves with its last JSON stdout line. */
export async function runJson(args, { env = {}, cwd = ROOT } = {}) {
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  const lines = stdout.trim().split('\n');
  const obj = JSON.parse(lines[lines.length - 1]);
  if (obj && obj.error) throw new Error(`${args.join(' ')}: ${obj.error}`);
  return obj;
}

/** One autocannon run; returns the figures we report. */
export async function cannon({ url, headers, body, connections, duration }) {
  const r = await autocannon({ url, method: 'POST', headers, body, connections, duration, pipelining: 1, timeout: 30 });
  return {
    requests: r.requests.total,
    duration: r.duration,
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: r.statusCodeStats,
  };
}

export function machine() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  };
}

export const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// The argon2 ceiling: how many @node-rs/argon2 verify() calls per second this machine does
// with Gatehouse's parameters (src/crypto/password.ts: argon2id, m=19456 KiB, t=2, p=1) on the
// default libuv thread pool. Run as a child process by run.mjs and bench/suite:
//   node argon2-ceiling.mjs <warmupSeconds> <measureSeconds> <concurrency>[,<concurrency>…]
// After one warm-up (at the largest concurrency), each concurrency (calls kept in flight) gets a
// measured window of its own; prints one JSON line, the best window's figures
// {"ops", "perSecond", "p50", "p99", "concurrency", "cpuPerOp", "threadpool"} and every
// window's {concurrency, perSecond, cpuPerOp} in "windows". More calls in flight is not always
// more: on a 2-core machine 4 at once shared the caches and did 5–10 % fewer than 3
// (2026-12-03), so the ceiling is the best of several.
import { hash, verify } from '@node-rs/argon2';

const [warmup = 5, measure = 10] = process.argv.slice(2, 4).map(Number);
const concurrencies = String(process.argv[4] ?? '4').split(',').map(Number);
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const password = 'bench-password-Correct-Horse-1';
const stored = await hash(password, OPTIONS);

/** `concurrency` calls kept in flight for `seconds`: ops finished in the window, their latencies, the process's CPU. */
async function window(concurrency, seconds) {
  const end = Date.now() + seconds * 1000;
  const latencies = [];
  let all = 0; // also the calls that end after the window: the CPU read at the end covers them
  const cpu0 = process.cpuUsage();
  async function worker() {
    while (Date.now() < end) {
      const started = performance.now();
      if (!(await verify(stored, password))) throw new Error('argon2 verify returned false');
      all++;
      if (Date.now() <= end) latencies.push(performance.now() - started);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { concurrency, ops: latencies.length, seconds, perSecond: latencies.length / seconds, p50: pct(50), p99: pct(99), cpuPerOp: (cpu.user + cpu.system) / all };
}

await window(Math.max(...concurrencies), warmup);
const windows = [];
for (const c of concurrencies) windows.push(await window(c, measure));
const best = windows.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
process.stdout.write(
  `${JSON.stringify({
    ...best,
    threadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    windows: windows.map((w) => ({ concurrency: w.concurrency, perSecond: Number(w.perSecond.toFixed(1)), cpuPerOp: Math.round(w.cpuPerOp) })),
  })}\n`,
);

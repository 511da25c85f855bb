// The argon2 ceiling: how many @node-rs/argon2 verify() calls per second this machine does
// with Gatehouse's parameters (src/crypto/password.ts: argon2id, m=19456 KiB, t=2, p=1) on the
// default libuv thread pool. Run as a child process by run.mjs:
//   node argon2-ceiling.mjs <warmupSeconds> <measureSeconds> <concurrency>
// prints one JSON line {"ops":…, "perSecond":…, "p50":…, "p99":…, "threadpool":…}.
import { hash, verify } from '@node-rs/argon2';

const [warmup = 5, measure = 10, concurrency = 8] = process.argv.slice(2).map(Number);
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const password = 'bench-password-Correct-Horse-1';
const stored = await hash(password, OPTIONS);

let phase = 'warmup';
let ops = 0;
const latencies = [];
const start = Date.now();
const warmEnd = start + warmup * 1000;
const end = warmEnd + measure * 1000;
let measureStart = 0;
let cpuStart;

async function worker() {
  for (;;) {
    const t0 = performance.now();
    if (Date.now() >= end) return;
    const ok = await verify(stored, password);
    if (!ok) throw new Error('argon2 verify returned false');
    const now = Date.now();
    if (phase === 'warmup' && now >= warmEnd) {
      phase = 'measure';
      measureStart = now;
      cpuStart = process.cpuUsage();
    }
    if (phase === 'measure' && now < end) {
      ops++;
      latencies.push(performance.now() - t0);
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (Math.min(Date.now(), end) - measureStart) / 1000;
const cpu = process.cpuUsage(cpuStart);
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
process.stdout.write(
  `${JSON.stringify({
    ops,
    seconds,
    perSecond: ops / seconds,
    p50: pct(50),
    p99: pct(99),
    concurrency,
    cpuPerOp: (cpu.user + cpu.system) / ops,
    threadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
  })}\n`,
);

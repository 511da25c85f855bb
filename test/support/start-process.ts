import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli.js';

export interface StartedProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** The log lines (JSON) so far, parsed. */
  logs(): { level: number; msg: string; [k: string]: unknown }[];
  /** Resolves with the exit code (or the signal) once the process has ended, or rejects after `ms`. */
  exited(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>;
  /** Waits until a log line matching `re` appears. */
  waitFor(re: RegExp, ms?: number): Promise<void>;
}

/**
 * `gatehouse start …` as its own process, ready once it logs "gatehouse started" (whatever
 * listeners it has), or ended: the caller looks at the exit code and output either way.
 */
export async function spawnStart(args: string[], env: Record<string, string> = {}, opts: { stdout?: 'pipe' | 'ignore' } = {}): Promise<StartedProcess> {
  const child = spawn(process.execPath, [CLI, 'start', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const waitFor = async (re: RegExp, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!re.test(out)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gatehouse start ended (${child.exitCode ?? child.signalCode}) before ${re}: ${out}`);
      if (Date.now() > deadline) throw new Error(`no ${re} within ${ms} ms: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const started: StartedProcess = {
    child,
    output: () => out,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string }),
    exited: async (ms) => {
      const from = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${ms} ms: ${out}`)), ms)));
      try {
        const r = await Promise.race([ended, timeout]);
        return { code: r.code, signal: r.signal, afterMs: r.at - from };
      } finally {
        clearTimeout(timer);
      }
    },
    waitFor,
  };
  // Ready, or ended early (a refused start): either way the caller decides.
  await Promise.race([waitFor(/"msg":"gatehouse started"/).catch(() => {}), ended]);
  return started;
}

/** Stops a process the test started, if it still runs. */
export function kill(p: StartedProcess | undefined): void {
  if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

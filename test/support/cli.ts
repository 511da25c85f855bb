import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const CLI = path.resolve('dist/cli/main.js');

/** Runs `gatehouse …` (the built CLI), optionally with standard input, and returns its exit code and output. */
export async function gatehouse(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const pending = run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    if (stdin !== undefined) pending.child.stdin!.end(stdin);
    else pending.child.stdin!.end();
    const { stdout, stderr } = await pending;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Starts `gatehouse start …` as its own process and waits until it answers on `readyUrl`. */
export async function startProcess(args: string[], readyUrl: string, env: Record<string, string> = {}, readyWithinMs = 20_000): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'start', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + readyWithinMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gatehouse start exited with ${child.exitCode}: ${out}`);
    try {
      const res = await fetch(readyUrl);
      if (res.ok) return { child, output: () => out };
    } catch {
      /* not yet listening */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`gatehouse start did not become ready: ${out}`);
}

/** Runs curl exactly as a user would type it (argv form, no shell). */
export async function curl(args: string[]): Promise<string> {
  const { stdout } = await run('curl', ['-s', ...args]);
  return stdout;
}

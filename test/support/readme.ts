// Runs README.md's shell blocks as a newcomer would: see the convention in test/e2e/walkthrough.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { freePortOffset, WALKTHROUGH_BAND } from './ports.js';

export interface Marker {
  kind: 'skip' | 'browser';
  args: string[];
}

export interface Block {
  /** 1-based line of the opening fence in README.md. */
  line: number;
  lang: string;
  /** `## Section › **bold step**`, for messages. */
  where: string;
  text: string;
  marker?: Marker;
}

export const SHELL_LANGS = new Set(['sh', 'bash', 'shell']);
const MARKER = /^<!--\s*readme-test:\s*(skip|browser)\b(.*?)-->\s*$/;

/** Every fenced block of a Markdown text, with its heading and the readme-test marker before it. */
export function parseBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let section = '';
  let step = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const h = /^(#{1,4}) (.*)/.exec(l);
    if (h) {
      section = `${h[1]} ${h[2]}`;
      step = '';
      continue;
    }
    const bold = /^\*\*(.+?)\*\*/.exec(l);
    if (bold) step = bold[1]!;
    const fence = /^(\s*)```\s*([\w-]*)\s*$/.exec(l);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(fence[1]!.length));
    let marker: Marker | undefined;
    let j = start - 1;
    while (j >= 0 && lines[j]!.trim() === '') j--;
    const m = j >= 0 ? MARKER.exec(lines[j]!.trim()) : null;
    if (m) marker = { kind: m[1] as Marker['kind'], args: m[2]!.trim().split(/\s+/).filter(Boolean) };
    blocks.push({
      line: start + 1,
      lang: fence[2]!.toLowerCase(),
      where: step ? `${section} › ${step}` : section,
      text: body.join('\n'),
      ...(marker ? { marker } : {}),
    });
  }
  return blocks;
}

/** A line the README runs "in the first terminal": the server. */
export const isServerLine = (line: string): boolean => /#\s*in the first terminal\b/i.test(line);

export type Segment = { kind: 'shell'; text: string; firstLine: number } | { kind: 'server'; text: string; firstLine: number };

/** A block split into runs of second-terminal lines and first-terminal (server) lines. */
export function segments(block: Block): Segment[] {
  const out: Segment[] = [];
  let current: string[] = [];
  let from = 0;
  const lines = block.text.split('\n');
  const flush = (upTo: number) => {
    if (current.some((l) => l.trim() && !l.trim().startsWith('#'))) out.push({ kind: 'shell', text: current.join('\n'), firstLine: block.line + 1 + from });
    current = [];
    from = upTo;
  };
  lines.forEach((l, i) => {
    if (isServerLine(l)) {
      flush(i);
      out.push({ kind: 'server', text: l, firstLine: block.line + 1 + i });
      from = i + 1;
    } else current.push(l);
  });
  flush(lines.length);
  return out;
}

/**
 * What a command's output must contain: comments that begin with `{` (JSON) or `→ `, whole-line or
 * after the command; `…` is any text, and two spaces end the expected text.
 */
export function expectations(text: string): RegExp[] {
  const out: RegExp[] = [];
  for (const l of text.split('\n')) {
    const m = /(?:^\s*|\s)#\s*(\{.*|→ .*)$/.exec(l);
    if (!m) continue;
    const expected = m[1]!.replace(/^→ /, '').split(/\s{2,}/)[0]!.trim();
    const pattern = expected
      .split('…')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*?');
    out.push(new RegExp(pattern));
  }
  return out;
}

export interface Relocation {
  offset: number;
  backends: Record<number, number>;
}

/**
 * Moves the README's fixed ports (after `localhost:`, `127.0.0.1:`, `[::1]:`, `localhost%3A` or
 * `listen(`) onto free ones: 9443/8243/8280 (+0…9) by `offset`, 9000/9001 to `backends`.
 */
export function relocate(text: string, r: Relocation): string {
  return text
    .replace(/(?<=(?:localhost|127\.0\.0\.1|\[::1\])(?::|%3A)|listen\()(\d{4})\b/g, (p) => {
      const n = Number(p);
      for (const base of [9443, 8243, 8280]) if (n >= base && n <= base + 9) return String(n + r.offset);
      return r.backends[n] !== undefined ? String(r.backends[n]) : p;
    })
    .replace(/(--port-offset[ =]|GATEHOUSE_PORT_OFFSET=)(\d+)/g, (_, k: string, n: string) => `${k}${Number(n) + r.offset}`);
}

/** One bash session, the "second terminal": blocks run in it one after another and share its variables. */
export class Shell {
  private readonly child: ChildProcess;
  private out = '';
  private count = 0;

  constructor(
    private readonly cwd: string,
    private readonly scratch: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.out += d));
    this.child.stderr!.on('data', (d) => (this.out += d));
    this.child.stdin!.write('exec 2>&1\n');
  }

  /** Runs `text` as a sourced script with pipefail; every failing command (as `set -e` would see it) is reported. */
  async run(text: string, timeoutMs = 90_000): Promise<{ output: string; failures: string[] }> {
    const n = ++this.count;
    const script = path.join(this.scratch, `block-${n}.sh`);
    const wrapper = path.join(this.scratch, `run-${n}.sh`);
    writeFileSync(script, `${text}\n`);
    writeFileSync(
      wrapper,
      [
        '__rt_fail=',
        `trap '__rt_s=$?; __rt_fail="$__rt_fail$LINENO exit $__rt_s: $BASH_COMMAND"$'"'"'\\n'"'"'' ERR`,
        'set -o pipefail',
        `source ${script}`,
        'trap - ERR',
        'set +o pipefail',
        `printf '\\n__RT_DONE_${n}__\\n%s__RT_END_${n}__\\n' "$__rt_fail"`,
        '',
      ].join('\n'),
    );
    const from = this.out.length;
    this.child.stdin!.write(`source ${wrapper}\n`);
    const end = `__RT_END_${n}__`;
    const deadline = Date.now() + timeoutMs;
    while (!this.out.includes(end, from)) {
      if (this.child.exitCode !== null) throw new Error(`the shell exited (${this.child.exitCode}): ${this.out.slice(from)}`);
      if (Date.now() > deadline) throw new Error(`still running after ${timeoutMs} ms (a server in the second terminal? end its line with "# in the first terminal"): ${this.out.slice(from)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const all = this.out.slice(from, this.out.indexOf(end, from));
    const done = all.lastIndexOf(`\n__RT_DONE_${n}__\n`);
    const failures = all
      .slice(done + `\n__RT_DONE_${n}__\n`.length)
      .split('\n')
      .filter((f) => f && !f.endsWith(`: source ${script}`)); // the block's last failure, again
    return { output: all.slice(0, done), failures };
  }

  /** The value of a shell variable. */
  async get(name: string): Promise<string> {
    return (await this.run(`printf '%s' "$${name}"`)).output;
  }

  /** Ends the shell and whatever it started in the background (`node … &`). */
  close(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

/** The "first terminal": one server line at a time, stopped as Ctrl-C stops it. */
export class FirstTerminal {
  private child?: ChildProcess;
  private out = '';
  /** The running (or last) server line. */
  line = '';
  /** Everything every server printed. */
  log = '';

  constructor(
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async start(line: string, timeoutMs = 60_000): Promise<void> {
    this.out = '';
    this.line = line;
    const child = spawn('bash', ['-c', line], { cwd: this.cwd, env: this.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer) => {
      this.out += d;
      this.log += d;
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    while (!this.out.includes('gatehouse started')) {
      if (child.exitCode !== null) throw new Error(`the server ended (exit ${child.exitCode}) before "gatehouse started":\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`no "gatehouse started" within ${timeoutMs} ms:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Ctrl-C: SIGINT to the foreground process group. Null when no server ran; otherwise checks
   * that gatehouse drained and logged "stopped" and that the command exited 0 (npm itself dies of
   * the SIGINT, as in a terminal: for `npm …` lines only gatehouse's own clean stop counts).
   */
  async stop(timeoutMs = 20_000): Promise<string | null> {
    const code = await this.interrupt(timeoutMs);
    if (code === null) return null;
    if (!this.out.includes('"msg":"stopped"')) return `no "stopped" line after Ctrl-C (exit ${code}):\n${this.out.slice(-2000)}`;
    if (code !== 0 && !(code === -1 && /^\s*npm /.test(this.line))) return `exit ${code} after Ctrl-C`;
    return 'ok';
  }

  private async interrupt(timeoutMs: number): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? -1;
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
    process.kill(-child.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the server did not stop within ${timeoutMs} ms after Ctrl-C:\n${this.out}`)), timeoutMs)));
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.child && this.child.exitCode === null) {
      try {
        process.kill(-this.child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** Splits on ` | ` outside brackets and parentheses. */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth--;
    else if (depth === 0 && text.startsWith(' | ', i)) {
      out.push(text.slice(from, i));
      from = i + 3;
    }
  }
  out.push(text.slice(from));
  return out;
}

/**
 * A port offset, from the walkthrough's own band, under which 9443, 8243 and 8280 plus 0…9 are free
 * (the README uses offsets 0 and 1), and 9000 and 9001 (the demo backends) too.
 */
export async function freeOffset(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const offset = await freePortOffset(WALKTHROUGH_BAND);
    const ok = await Promise.all([9444, 8244, 8281, 9000, 9001].map((p) => portFree(p + offset)));
    if (ok.every(Boolean)) return offset;
  }
  throw new Error('no free port offset');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

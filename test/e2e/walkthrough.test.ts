import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { verifyPassword } from '../../src/crypto/password.js';
import { openStore } from '../../src/store/index.js';
import { authorizeViaForms, callbackParams, FormAgent } from '../support/authorize.js';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { gatehouse } from '../support/cli.js';
import { expectations, FirstTerminal, freeOffset, parseBlocks, relocate, segments, SHELL_LANGS, Shell, splitTopLevel, type Block, type Relocation } from '../support/readme.js';

const run = promisify(execFile);

/**
 * The README, run line by line as a newcomer runs it: every shell block, in order, in a fresh
 * copy of the repository with a fresh data directory and free ports. The convention in README.md:
 *
 * - ```sh (or ```bash, ```shell) blocks run, in order, in one bash session (the "second
 *   terminal"): variables and functions carry over; each block runs with pipefail, and any
 *   command that fails (a non-zero exit, as `set -e` would see it, also inside `$(…)`) fails the
 *   block, which is named (README.md line, section, step) in the failure. Later blocks are skipped.
 * - A line ending in `# in the first terminal…` is the server: the test stops the running one as
 *   Ctrl-C does (SIGINT: it must log "stopped" and exit 0) and runs that line in the background until it logs
 *   "gatehouse started". Lines before and after it in the block run in the second terminal.
 * - A comment that begins with `{` (JSON) or `→ `, on a command's line or on a line of its own,
 *   is output: the block's output must contain it, `…` standing for any text; two spaces end the
 *   expected text (what follows is commentary).
 * - Any other block (```text, ```yaml, a bare ```) is illustrative and not run; the CLI
 *   section's bare ``` synopsis of `gatehouse …` lines is checked against the command tree instead
 *   (every command and option it names exists, every command is in it).
 * - `<!-- readme-test: skip REASON -->` on the line before a block: not run (kept for the top
 *   block, which installs and runs this suite).
 * - `<!-- readme-test: browser URL_VAR USER PASSWORD CODE_VAR -->` before a block: the step a
 *   person does in a browser. Instead of running that block, the test is the browser: it opens
 *   $URL_VAR, signs in, approves, checks that it lands where the block shows (`…`: any text) and
 *   sets CODE_VAR in the shell to the `code` of the redirect.
 *
 * The copy: package.json, dist/, docs/ and node_modules/ linked into a temp folder (the cwd, so
 * `gatehouse.yaml` and `data/` land there). Ports 9443, 8243, 8280 (+0…9), `--port-offset K` and
 * `GATEHOUSE_PORT_OFFSET=K` are shifted by one free offset (GATEHOUSE_PORT_OFFSET is set for both
 * terminals), 9000/9001 (the demo backends) move by the same offset, in commands and in expected output.
 * `npx gatehouse` runs dist/cli/main.js directly (npx costs seconds per call); one test checks
 * that the real `npx gatehouse` works in the copy.
 */
// GATEHOUSE_README_TEST_FILE: run another Markdown file the same way (say, an older README).
const README = readFileSync(path.resolve(process.env.GATEHOUSE_README_TEST_FILE ?? 'README.md'), 'utf8');
const BLOCKS = parseBlocks(README);
const RUN = BLOCKS.filter((b) => SHELL_LANGS.has(b.lang));
const label = (b: Block) => `README.md:${b.line} ${b.where}: ${b.text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#'))?.trim().slice(0, 60) ?? ''}`;

describe('README.md, every shell block in order', () => {
  let root: string;
  let clone: string;
  let shell: Shell;
  let server: FirstTerminal;
  let relocation: Relocation;
  let broken: string | undefined;
  const serverStops: string[] = [];
  let realNpxPath: string;
  let realNpx: Promise<string>;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'gatehouse-readme-'));
    clone = path.join(root, 'clone');
    const bin = path.join(root, 'bin');
    mkdirSync(clone);
    mkdirSync(bin);
    mkdirSync(path.join(root, 'scratch'));
    copyFileSync('package.json', path.join(clone, 'package.json'));
    for (const d of ['dist', 'docs', 'node_modules']) symlinkSync(path.resolve(d), path.join(clone, d));
    realNpxPath = execFileSync('bash', ['-c', 'command -v npx'], { encoding: 'utf8' }).trim();
    writeFileSync(
      path.join(bin, 'npx'),
      `#!/bin/sh\nif [ "$1" = gatehouse ]; then shift; exec node ${JSON.stringify(path.join(clone, 'dist/cli/main.js'))} "$@"; fi\nexec ${realNpxPath} "$@"\n`,
      { mode: 0o755 },
    );
    const offset = await freeOffset();
    // The demo backends move by the same offset: below the ephemeral range, like the server's ports.
    const backends: Record<number, number> = { 9000: 9000 + offset, 9001: 9001 + offset };
    relocation = { offset, backends };
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_') && !k.startsWith('npm_')));
    Object.assign(env, {
      PATH: `${bin}:${process.env.PATH}`,
      GATEHOUSE_PORT_OFFSET: String(offset),
      npm_config_update_notifier: 'false',
      npm_config_cache: path.join(root, 'npm-cache'),
    });
    shell = new Shell(clone, path.join(root, 'scratch'), env);
    // The real npx, once, alongside the blocks (it costs seconds): checked by its own test below.
    realNpx = run('bash', ['-c', `${JSON.stringify(realNpxPath)} gatehouse --help`], { cwd: clone, env: { ...env, npm_config_ignore_scripts: 'true' } }).then(
      (r) => r.stdout,
      (err: Error) => `failed: ${err.message}`,
    );
    server = new FirstTerminal(clone, env);
  });

  afterAll(async () => {
    try {
      await server?.stop();
    } finally {
      server?.kill();
      shell?.close();
      if (root) rmSync(root, { recursive: true, force: true });
    }
  });

  it('has shell blocks to run, and every marker is known', () => {
    expect(RUN.length).toBeGreaterThan(10);
    for (const b of BLOCKS) if (b.marker?.kind === 'browser') expect(b.marker.args, label(b)).toHaveLength(4);
  });

  for (const block of BLOCKS.filter((b) => SHELL_LANGS.has(b.lang) || b.marker?.kind === 'browser')) {
    it(label(block), async (ctx) => {
      if (block.marker?.kind === 'skip') ctx.skip();
      if (broken) ctx.skip();
      try {
        await runBlock(block);
      } catch (err) {
        broken = label(block);
        throw new Error(`${label(block)} failed:\n${(err as Error).message}`);
      }
    }, 180_000);
  }

  async function runBlock(block: Block): Promise<void> {
    if (block.marker?.kind === 'browser') {
      const [urlVar, user, password, codeVar] = block.marker.args as [string, string, string, string];
      const url = await shell.get(urlVar);
      expect(url, `$${urlVar} is set`).toMatch(/^https?:\/\//);
      const landed = await authorizeViaForms(new FormAgent(new URL(url).origin), url, { username: user, password });
      const code = callbackParams(landed).code;
      expect(code, `the browser lands on the callback with a code: ${landed}`).toMatch(/^[\w-]{20,}$/);
      // The block shows where the browser lands (`…` for any text).
      const shown = relocate(block.text.trim(), relocation).split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      expect(landed, 'the browser lands where the README shows').toMatch(new RegExp(`^${shown.join('[^&]*')}$`));
      await shell.run(`${codeVar}='${code}'`);
      return;
    }
    for (const seg of segments(block)) {
      const text = relocate(seg.text, relocation);
      if (seg.kind === 'server') {
        const stopped = await server.stop();
        if (stopped !== null) serverStops.push(stopped);
        expect(stopped ?? 'ok', 'the previous server stops cleanly on Ctrl-C').toBe('ok');
        await server.start(text);
        continue;
      }
      const { output, failures } = await shell.run(text);
      if (failures.length) throw new Error(`a command failed (line in block, from README.md:${seg.firstLine}):\n${failures.join('\n')}\n--- output ---\n${output}`);
      for (const want of expectations(text)) if (!want.test(output)) throw new Error(`the output does not contain ${want}\n--- output ---\n${output}`);
    }
  }

  it('the real `npx gatehouse` works in the copy', async () => {
    expect(await realNpx).toContain('Usage: gatehouse');
  }, 60_000);

  it('every server stopped cleanly, and none logged a secret', async (ctx) => {
    if (broken) ctx.skip();
    const stopped = await server.stop();
    if (stopped !== null) serverStops.push(stopped);
    expect(serverStops.length).toBeGreaterThan(0);
    expect(serverStops.filter((r) => r !== 'ok')).toEqual([]);
    const log = server.log;
    expect(log).toContain('gatehouse started');
    const secrets = ['alice-pass', 'admin-password', 'sam-password', 'publisher-password'];
    for (const v of ['CONSUMER_SECRET', 'B64', 'ACCESS_TOKEN', 'REFRESH_TOKEN', 'CS', 'TOKEN', 'MANAGE', 'CODE']) {
      const value = await shell.get(v);
      if (value.length >= 8) secrets.push(value);
    }
    for (const s of secrets) expect(log.includes(s), `the server log contains ${s.slice(0, 6)}…`).toBe(false);
  });
});

describe("README.md's CLI synopsis", () => {
  // The bare block of `gatehouse …` lines in the CLI section: every command and option it names
  // is in that command's --help (global options included), and every command is in it.
  const synopsis = BLOCKS.find((b) => b.lang === '' && b.where.startsWith('## CLI') && b.text.trim().startsWith('gatehouse '));
  const program = buildProgram();
  const leaves = (c: Command, at: string[] = []): string[][] => (c.commands.length ? c.commands.flatMap((s) => leaves(s, [...at, s.name()])) : [at]);

  it('names only commands and options that exist, and every command; every --help lists the global options', () => {
    expect(synopsis, 'a ``` block of gatehouse lines in ## CLI').toBeDefined();
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const line of synopsis!.text.split('\n').filter((l) => l.startsWith('gatehouse '))) {
      const alternatives = splitTopLevel(line.slice('gatehouse '.length));
      let parent: string[] = [];
      alternatives.forEach((alt, i) => {
        const words = alt.trim().split(/\s+/);
        let cmd: Command = program;
        const at: string[] = i === 0 ? [] : [...parent];
        for (const p of at) cmd = cmd.commands.find((c) => c.name() === p)!;
        const names: string[][] = [];
        for (const w of words) {
          const variants = w.split('|');
          const found = variants.map((v) => cmd.commands.find((c) => c.name() === v));
          if (found.some((f) => !f)) break;
          if (variants.length > 1) {
            for (const f of found) names.push([...at, f!.name()]);
            break;
          }
          cmd = found[0]!;
          at.push(cmd.name());
        }
        if (!names.length) names.push(at);
        if (i === 0) parent = names[0]!.slice(0, -1);
        for (const path of names) {
          let c: Command = program;
          for (const p of path) c = c.commands.find((x) => x.name() === p)!;
          if (c.commands.length) problems.push(`"${line}": ${path.join(' ') || 'gatehouse'} is not a command`);
          seen.add(path.join(' '));
          const help = c.helpInformation();
          for (const opt of alt.match(/--[a-z][\w-]*/g) ?? []) if (!new RegExp(`${opt}\\b`).test(help)) problems.push(`"${line}": gatehouse ${path.join(' ')} --help has no ${opt}`);
        }
      });
    }
    for (const leaf of leaves(program)) {
      if (!seen.has(leaf.join(' '))) problems.push(`gatehouse ${leaf.join(' ')} is missing from the synopsis`);
      let c: Command = program;
      for (const p of leaf) c = c.commands.find((x) => x.name() === p)!;
      // `--config FILE` and `--data-dir DIR` go with every command, and every --help says so.
      if (!/Global Options:[^]*--config <file>[^]*--data-dir <dir>/.test(c.helpInformation())) problems.push(`gatehouse ${leaf.join(' ')} --help does not list the global options`);
    }
    expect(problems).toEqual([]);
  });
});

// Each CLI call starts a process (seconds on a loaded machine): these tests make up to a dozen.
describe('CLI refusals', { timeout: 90_000 }, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const g = (...args: string[]) => gatehouse(['--data-dir', dir, ...args]);

  it('refuses bad input with one clear line and a non-zero exit, writing nothing', async () => {
    expect((await g('user', 'add', 'carol', '--password', 'pw-12345')).code).toBe(0);
    const dup = await g('user', 'add', 'carol', '--password', 'pw-12345');
    expect(dup.code).not.toBe(0);
    expect(dup.stderr.trim()).toBe('gatehouse: user "carol" already exists');
    const noOwner = await g('app', 'create', 'x', '--owner', 'nobody');
    expect(noOwner.code).not.toBe(0);
    expect(noOwner.stderr.trim()).toBe('gatehouse: no user "nobody"');
    const badUrl = await g('app', 'create', 'x', '--owner', 'carol', '--callback-url', 'not a url');
    expect(badUrl.code).not.toBe(0);
    expect(badUrl.stderr.trim().split('\n')).toHaveLength(1);
    expect(badUrl.stderr).toContain('invalid callback URL');
    // Nothing half-written: the refused app does not exist, so creating it now works.
    expect((await g('app', 'create', 'x', '--owner', 'carol')).code).toBe(0);
    const dupApp = await g('app', 'create', 'x', '--owner', 'carol', '--json');
    expect(dupApp.code).not.toBe(0);
    expect(JSON.parse(dupApp.stdout)).toEqual({ error: 'user "carol" already has an application named "x"' });
    const badTier = await g('app', 'create', 'y', '--owner', 'carol', '--tier', 'Platinum');
    expect(badTier.stderr).toContain('unknown tier "Platinum"');
  });

  it('shows the secret only when generated or regenerated', async () => {
    await g('user', 'add', 'dave', '--password', 'pw-12345');
    await g('app', 'create', 'svc', '--owner', 'dave');
    const first = JSON.parse((await g('app', 'keys', 'svc', '--owner', 'dave', '--json')).stdout);
    expect(first.consumerSecret).toBeDefined();
    const again = JSON.parse((await g('app', 'keys', 'svc', '--owner', 'dave', '--json')).stdout);
    expect(again).toEqual({ consumerKey: first.consumerKey, keyType: 'PRODUCTION' });
    const regen = JSON.parse((await g('app', 'keys', 'svc', '--owner', 'dave', '--regenerate', '--validity', '600', '--json')).stdout);
    expect(regen.consumerKey).toBe(first.consumerKey);
    expect(regen.consumerSecret).not.toBe(first.consumerSecret);
    expect(regen.validitySeconds).toBe(600);
    expect(regen.validity).toBeUndefined();
    const sandbox = JSON.parse((await g('app', 'keys', 'svc', '--owner', 'dave', '--type', 'SANDBOX', '--json')).stdout);
    expect(sandbox.keyType).toBe('SANDBOX');
    expect(sandbox.consumerKey).not.toBe(first.consumerKey);
  });

  it('refuses a non-ASCII or space-padded callback URL, naming the encoded form', async () => {
    await g('user', 'add', 'frank', '--password', 'pw-12345');
    const idn = await g('app', 'create', 'idn', '--owner', 'frank', '--callback-url', 'https://例え.jp/cb');
    expect(idn.code).not.toBe(0);
    expect(idn.stderr.trim().split('\n')).toHaveLength(1);
    expect(idn.stderr).toContain('https://xn--r8jz45g.jp/cb');
    const padded = await g('app', 'create', 'idn', '--owner', 'frank', '--callback-url', 'https://app.example.com/cb ');
    expect(padded.code).not.toBe(0);
    expect(padded.stderr).toContain('spaces');
    expect((await g('app', 'create', 'idn', '--owner', 'frank', '--callback-url', 'https://xn--r8jz45g.jp/cb')).code).toBe(0);
  });

  it('user add takes the password from standard input with --password-stdin, and needs exactly one way', async () => {
    const r = await gatehouse(['--data-dir', dir, 'user', 'add', 'grace', '--password-stdin', '--json'], {}, 'stdin secret\nignored\n');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ username: 'grace', role: 'subscriber', locked: false });
    const store = await openStore(loadConfig({ dataDir: dir }, {}));
    try {
      const grace = await store.users.findByUsername('grace');
      expect(await verifyPassword(grace!.passwordHash, 'stdin secret')).toBe(true);
    } finally {
      await store.close();
    }
    const both = await gatehouse(['--data-dir', dir, 'user', 'add', 'heidi', '--password', 'pw-12345', '--password-stdin'], {}, 'pw\n');
    expect(both.code).not.toBe(0);
    expect(both.stderr.trim()).toBe('gatehouse: give exactly one of --password PW and --password-stdin');
    const neither = await g('user', 'add', 'heidi');
    expect(neither.stderr.trim()).toBe('gatehouse: give exactly one of --password PW and --password-stdin');
    const empty = await gatehouse(['--data-dir', dir, 'user', 'add', 'heidi', '--password-stdin'], {}, '\n');
    expect(empty.stderr.trim()).toBe('gatehouse: the password may not be empty');
    expect((await gatehouse(['user', 'add', '--help'])).stdout).toContain('--password-stdin');
  });

  it('never silently converts a key between confidential and public', async () => {
    await g('user', 'add', 'ivan', '--password', 'pw-12345');
    await g('app', 'create', 'conf', '--owner', 'ivan');
    await g('app', 'create', 'pub', '--owner', 'ivan');
    const conf = JSON.parse((await g('app', 'keys', 'conf', '--owner', 'ivan', '--json')).stdout);
    expect(conf.consumerSecret).toBeDefined();
    const makePublic = await g('app', 'keys', 'conf', '--owner', 'ivan', '--public');
    expect(makePublic.code).not.toBe(0);
    expect(makePublic.stderr.trim()).toBe('gatehouse: the PRODUCTION key of this application is confidential (it has a secret) and cannot be made public; use another application for a public client');
    const regenPublic = await g('app', 'keys', 'conf', '--owner', 'ivan', '--regenerate', '--public');
    expect(regenPublic.code).not.toBe(0);
    // the service's refusal, as for --public alone
    expect(regenPublic.stderr.trim()).toBe(makePublic.stderr.trim());
    // The confidential key is unchanged: shown again without a secret, still confidential.
    expect(JSON.parse((await g('app', 'keys', 'conf', '--owner', 'ivan', '--json')).stdout)).toEqual({ consumerKey: conf.consumerKey, keyType: 'PRODUCTION' });
    const pub = JSON.parse((await g('app', 'keys', 'pub', '--owner', 'ivan', '--public', '--json')).stdout);
    expect(pub.consumerSecret).toBeUndefined();
    expect((await g('app', 'keys', 'pub', '--owner', 'ivan', '--public', '--json')).code).toBe(0);
    const regenOfPublic = await g('app', 'keys', 'pub', '--owner', 'ivan', '--regenerate');
    expect(regenOfPublic.code).not.toBe(0);
    expect(regenOfPublic.stderr.trim()).toBe('gatehouse: the PRODUCTION key of this application is a public client: it has no secret to regenerate');
  });

  it('names the bad key of an invalid configuration file', async () => {
    const cfg = path.join(dir, 'bad.yaml');
    writeFileSync(cfg, 'oauth:\n  userAccessTokenValidty: 120\n');
    const r = await gatehouse(['--config', cfg, '--data-dir', dir, 'user', 'add', 'erin', '--password', 'pw-12345']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('oauth.userAccessTokenValidty: unknown configuration key');
  });

  it('every command has --help, with the global options', async () => {
    for (const cmd of [['start'], ['user', 'add'], ['app', 'create'], ['app', 'keys'], ['idp', 'add'], ['audit']]) {
      const r = await gatehouse([...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('--json');
      // The global options, in every command's help (README: CLI).
      expect(r.stdout).toMatch(/Global Options:[^]*--config <file>[^]*--data-dir <dir>/);
    }
  }, 60_000);
});

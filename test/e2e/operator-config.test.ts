import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouse } from '../support/cli.js';

/**
 * Configuration mistakes as an operator makes them, through the real CLI: the exit code and the
 * one line printed, which must name the flag, the variable or the file, and the key.
 */
describe('configuration errors point at the right place (CLI)', () => {
  let dir: string;
  let data: string[];
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  /** The line an operator reads: stderr's only line. */
  const line = (r: { stderr: string }) => {
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    return lines[0]!;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-cfg-cli-'));
    data = ['--data-dir', path.join(dir, 'data')];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('blames the flag for a bad --port-offset, not the file', async () => {
    const config = file('good.yaml', 'oauth:\n  userAccessTokenValidity: 120\n');
    const r = await gatehouse(['--config', config, ...data, 'start', '--port-offset', '-300']);
    expect(r.code).toBe(2);
    expect(line(r)).toBe('gatehouse: invalid --port-offset -300: portOffset: must be >= 0');
  });

  it('blames the environment variable for a bad GATEHOUSE_LOG_LEVEL and lists the levels', async () => {
    const config = file('good2.yaml', 'portOffset: 1\n');
    const r = await gatehouse(['--config', config, ...data, 'api', 'list'], { GATEHOUSE_LOG_LEVEL: 'verbose' });
    expect(r.code).toBe(2);
    expect(line(r)).toBe('gatehouse: invalid GATEHOUSE_LOG_LEVEL=verbose: log.level: must be one of trace, debug, info, warn, error, fatal, silent (any case)');
  });

  it('accepts a log level in any case', async () => {
    const config = file('upper.yaml', 'log:\n  level: WARN\n');
    expect((await gatehouse(['--config', config, ...data, 'api', 'list'])).code).toBe(0);
    expect((await gatehouse([...data, 'api', 'list'], { GATEHOUSE_LOG_LEVEL: 'Debug' })).code).toBe(0);
  });

  it('names a misspelt key once, with the key that was meant', async () => {
    const config = file('typo.yaml', 'throttling:\n  tiers:\n    Gold: { requests: 10, perSecond: 60 }\n');
    const r = await gatehouse(['--config', config, ...data, 'api', 'list']);
    expect(r.code).toBe(2);
    expect(line(r)).toBe(`gatehouse: invalid configuration in ${config}: throttling.tiers.Gold.perSecond: unknown configuration key; did you mean perSeconds?`);
  });

  it('reports a bad value in the file even when a flag overrides it', async () => {
    const config = file('overridden.yaml', 'portOffset: -5\n');
    const r = await gatehouse(['--config', config, ...data, 'start', '--port-offset', '3']);
    expect(r.code).toBe(2);
    expect(line(r)).toBe(`gatehouse: invalid configuration in ${config}: portOffset: must be >= 0`);
  });

  it('keeps the existing messages: a bad value names its key, a missing file and bad YAML say so', async () => {
    const bad = file('bad.yaml', 'oauth:\n  userAccessTokenValidity: soon\n');
    expect(line(await gatehouse(['--config', bad, ...data, 'api', 'list']))).toBe(`gatehouse: invalid configuration in ${bad}: oauth.userAccessTokenValidity: must be integer`);
    const missing = path.join(dir, 'nope.yaml');
    expect(line(await gatehouse(['--config', missing, ...data, 'api', 'list']))).toBe(`gatehouse: cannot read config file ${missing}: ENOENT`);
    const yaml = file('broken.yaml', 'oauth: [unclosed\n');
    expect(line(await gatehouse(['--config', yaml, ...data, 'api', 'list']))).toMatch(/^gatehouse: config file .*broken\.yaml is not valid YAML/);
  }, 120_000);

  it('resolves a relative dataDir in a file against the file\'s folder, not the current directory', async () => {
    const folder = path.join(dir, 'elsewhere');
    mkdirSync(folder);
    const config = path.join(folder, 'gatehouse.yaml');
    writeFileSync(config, 'dataDir: ./state\n');
    const r = await gatehouse(['--config', config, 'user', 'add', 'carol', '--password', 'carol-pass']);
    expect(r.code).toBe(0);
    expect(existsSync(path.join(folder, 'state', 'gatehouse.db'))).toBe(true);
    expect(existsSync(path.resolve('state'))).toBe(false);
  });

  it('keeps Unlimited (and the other defaults) when the file configures only Gold and Trial', async () => {
    const config = file('tiers.yaml', 'throttling:\n  tiers:\n    Gold: { requests: 50, perSeconds: 60 }\n    Trial: { requests: 5, perSeconds: 60 }\n');
    const run = (...args: string[]) => gatehouse(['--config', config, ...data, ...args]);
    expect((await run('user', 'add', 'dave', '--password', 'dave-pass')).code).toBe(0);
    const app = await run('app', 'create', 'tiers-app', '--owner', 'dave');
    expect(app.stderr).toBe('');
    expect(app.code).toBe(0);
    expect(app.stdout.trim()).toBe('application tiers-app created for dave (tier Unlimited)');
    expect((await run('app', 'create', 'trial-app', '--owner', 'dave', '--tier', 'Trial')).code).toBe(0);
    const unknown = await run('app', 'create', 'x-app', '--owner', 'dave', '--tier', 'Platinum');
    expect(unknown.code).toBe(1);
    expect(line(unknown)).toBe('gatehouse: unknown tier "Platinum": configured tiers are Gold, Silver, Bronze, Unlimited, Trial');
  }, 120_000);

  it('refuses to limit the Unlimited tier, naming the file', async () => {
    const config = file('limited.yaml', 'throttling:\n  tiers:\n    Unlimited: { requests: 5, perSeconds: 60 }\n');
    const r = await gatehouse(['--config', config, ...data, 'api', 'list']);
    expect(r.code).toBe(2);
    expect(line(r)).toMatch(new RegExp(`^gatehouse: invalid configuration in ${config.replaceAll('.', '\\.')}: throttling\\.tiers\\.Unlimited must stay unlimited`));
  });

  it('shows --config and --data-dir in every command\'s --help', async () => {
    const commands = [['start'], ['user', 'add'], ['app', 'keys'], ['subscribe']];
    const results = await Promise.all(commands.map((cmd) => gatehouse([...cmd, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, commands[i]!.join(' ')).toBe(0);
      expect(r.stdout, commands[i]!.join(' ')).toMatch(/Global Options:\n\s+--config <file>.*\n\s+--data-dir <dir>/);
    });
  }, 120_000);
});

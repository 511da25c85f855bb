import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { verifyPassword } from '../../src/crypto/password.js';
import { openStore } from '../../src/store/index.js';
import { curl, gatehouse, startProcess } from '../support/cli.js';
import { freePortOffset } from '../support/ports.js';

/**
 * The README walkthrough, which mirrors WSO2 API Manager 1.5's "Token APIs" page: the real
 * CLI and server processes, a config file, a port offset, and curl commands as a user types them.
 */
describe('README walkthrough (CLI + curl, like the original WSO2 page)', () => {
  let dir: string;
  let offset: number;
  let server: { child: ChildProcess; output: () => string };
  let b64: string;
  let gatewayHttps: string;
  let gatewayHttp: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-walkthrough-'));
    const config = path.join(dir, 'gatehouse.yaml');
    writeFileSync(config, 'oauth:\n  userAccessTokenValidity: 120\n');
    const data = ['--data-dir', path.join(dir, 'data')];
    expect((await gatehouse([...data, 'user', 'add', 'alice', '--password', 'alice-pass'])).code).toBe(0);
    expect((await gatehouse([...data, 'app', 'create', 'weather-app', '--owner', 'alice', '--callback-url', 'https://app.example.com/callback'])).code).toBe(0);
    const keys = await gatehouse([...data, 'app', 'keys', 'weather-app', '--owner', 'alice', '--json']);
    expect(keys.code).toBe(0);
    const { consumerKey, consumerSecret, keyType } = JSON.parse(keys.stdout);
    expect(keyType).toBe('PRODUCTION');
    expect(consumerKey).toMatch(/^[A-Za-z0-9_-]{28,}$/);
    expect(consumerSecret).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    b64 = Buffer.from(`${consumerKey}:${consumerSecret}`).toString('base64');

    offset = await freePortOffset();
    gatewayHttps = `https://localhost:${8243 + offset}`;
    gatewayHttp = `http://localhost:${8280 + offset}`;
    server = await startProcess(['--config', config, ...data, '--port-offset', String(offset)], `${gatewayHttp}/health/ready`);
  });

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the page\'s literal header (space before the colon) gets an explanatory 400', async () => {
    const out = await curl([
      '-k', '-i', '-d', 'grant_type=password&username=alice&password=alice-pass&scope=PRODUCTION',
      '-H', `Authorization :Basic ${b64}, Content-Type: application/x-www-form-urlencoded`,
      `${gatewayHttps}/login`,
    ]);
    expect(out).toMatch(/^HTTP\/1\.1 400/);
    const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4));
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toContain('Authorization: Basic');
  });

  let refresh: string;
  let access: string;
  it('password grant at /login and /token with scope=PRODUCTION; expires_in follows the config file', async () => {
    for (const endpoint of ['login', 'token']) {
      const out = await curl([
        '-k', '-d', 'grant_type=password&username=alice&password=alice-pass&scope=PRODUCTION',
        '-H', `Authorization: Basic ${b64}, Content-Type: application/x-www-form-urlencoded`,
        `${gatewayHttps}/${endpoint}`,
      ]);
      const body = JSON.parse(out);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 120, scope: 'PRODUCTION' });
      refresh = body.refresh_token;
      access = body.access_token;
    }
  });

  it('renews with the refresh token', async () => {
    const out = await curl([
      '-k', '-d', `grant_type=refresh_token&refresh_token=${refresh}&scope=PRODUCTION`,
      '-H', `Authorization: Basic ${b64}`,
      `${gatewayHttps}/login`,
    ]);
    const body = JSON.parse(out);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 120, scope: 'PRODUCTION' });
    expect(body.refresh_token).not.toBe(refresh);
    access = body.access_token;
  });

  it('revokes at http://localhost:8280/revoke (plus the offset)', async () => {
    const out = await curl(['-i', '-d', `token=${access}`, '-H', `Authorization: Basic ${b64}`, `${gatewayHttp}/revoke`]);
    expect(out).toMatch(/^HTTP\/1\.1 200/);
    const introspect = JSON.parse(await curl(['-d', `token=${access}`, '-H', `Authorization: Basic ${b64}`, `${gatewayHttp}/introspect`]));
    expect(introspect).toEqual({ active: false });
  });

  it('serves the portal on 9443 plus the offset', async () => {
    expect(await curl(['-k', '-L', `https://localhost:${9443 + offset}/`])).toContain('<title>APIs · Gatehouse</title>');
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // No credential ever reached the log.
    const log = server.output();
    expect(log).toContain('gatehouse started');
    // No admin yet: the operator is told how to make one, once.
    expect(log.split('no admin user yet').length - 1).toBe(1);
    expect(log).toContain('gatehouse user add NAME --role admin --password-stdin');
    for (const secret of ['alice-pass', b64, refresh, access]) expect(log).not.toContain(secret);
  });
});

describe('CLI refusals', () => {
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
    expect(regen.validity).toBe(600);
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
    expect(regenPublic.stderr.trim()).toBe('gatehouse: --regenerate and --public do not go together: a public client has no secret to regenerate');
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

  it('every command has --help', async () => {
    for (const cmd of [['start'], ['user', 'add'], ['app', 'create'], ['app', 'keys']]) {
      const r = await gatehouse([...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('--json');
    }
  });
});

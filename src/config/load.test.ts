import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

const file = (text: string) => {
  const p = path.join(mkdtempSync(path.join(tmpdir(), 'gh-cfg-')), 'c.yaml');
  writeFileSync(p, text);
  return p;
};

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, {});
    expect(c.ports).toEqual({ portal: 9443, https: 8243, http: 8280 });
    expect(c.oauth).toMatchObject({
      issuer: 'https://localhost:8243',
      accessTokenValidity: 3600,
      userAccessTokenValidity: 3600,
      refreshTokenValidity: 86400,
      authorizationCodeValidity: 300,
      timestampSkew: 300,
      refreshTokenReuseGrace: 10,
    });
    expect(c.security.lockout).toEqual({ maxFailures: 5, windowSeconds: 900, lockSeconds: 900 });
    expect(c.dataDir).toBe(path.resolve('data'));
    expect(c.database.url).toBeUndefined();
    expect(Object.keys(c.throttling.tiers)).toEqual(['Gold', 'Silver', 'Bronze', 'Unlimited']);
  });

  it('shifts every port and the default issuer by the offset', () => {
    const c = loadConfig({ portOffset: 2 }, {});
    expect(c.ports).toEqual({ portal: 9445, https: 8245, http: 8282 });
    expect(c.oauth.issuer).toBe('https://localhost:8245');
  });

  it('layers file < environment < flags', () => {
    const f = file('portOffset: 1\ndataDir: /tmp/from-file\noauth:\n  userAccessTokenValidity: 120\n');
    const env = { GATEHOUSE_PORT_OFFSET: '3', GATEHOUSE_DATABASE_URL: 'postgres://u@h/db' };
    const c = loadConfig({ config: f, portOffset: '5' }, env);
    expect(c.portOffset).toBe(5);
    expect(c.dataDir).toBe('/tmp/from-file');
    expect(c.oauth.userAccessTokenValidity).toBe(120);
    expect(c.database.url).toBe('postgres://u@h/db');
    expect(loadConfig({ config: f }, env).portOffset).toBe(3);
    expect(loadConfig({}, { GATEHOUSE_CONFIG: f }).portOffset).toBe(1);
  });

  it('names an unknown key', () => {
    expect(() => loadConfig({ config: file('oauth:\n  acessTokenValidity: 5\n') }, {})).toThrow(/oauth\.acessTokenValidity: unknown configuration key/);
  });

  it('names a key with a bad value', () => {
    expect(() => loadConfig({ config: file('oauth:\n  userAccessTokenValidity: soon\n') }, {})).toThrow(/oauth\.userAccessTokenValidity: must be integer/);
    expect(() => loadConfig({ config: file('oauth:\n  authorizationCodeValidity: 6000\n') }, {})).toThrow(/oauth\.authorizationCodeValidity/);
    expect(() => loadConfig({}, { GATEHOUSE_DATABASE_URL: 'mysql://x' })).toThrow(/database\.url/);
    expect(() => loadConfig({ portOffset: 'two' }, {})).toThrow(ConfigError);
  });

  it('refuses YAML that does not parse, and a missing file', () => {
    expect(() => loadConfig({ config: file('oauth: [unclosed\n') }, {})).toThrow(/not valid YAML/);
    expect(() => loadConfig({ config: '/nonexistent/gatehouse.yaml' }, {})).toThrow(/cannot read config file/);
  });

  it('needs both tls.cert and tls.key', () => {
    expect(() => loadConfig({ config: file('tls:\n  cert: /x.pem\n') }, {})).toThrow(/tls\.cert and tls\.key/);
  });

  it('refuses an issuer with a path, saying it must be an origin', () => {
    for (const bad of ['https://auth.example.com/oauth', 'https://auth.example.com/oauth/', 'https://auth.example.com//', 'https://auth.example.com?x=1', 'ftp://auth.example.com']) {
      expect(() => loadConfig({}, { GATEHOUSE_ISSUER: bad }), bad).toThrow(/oauth\.issuer: must be an origin such as https:\/\/auth\.example\.com/);
    }
    for (const ok of ['https://auth.example.com', 'https://auth.example.com:8443', 'http://127.0.0.1:8280', 'https://[::1]:8243']) {
      expect(loadConfig({}, { GATEHOUSE_ISSUER: ok }).oauth.issuer).toBe(ok);
    }
  });

  it('strips a trailing slash from the issuer', () => {
    expect(loadConfig({}, { GATEHOUSE_ISSUER: 'https://api.example.com/' }).oauth.issuer).toBe('https://api.example.com');
  });
});

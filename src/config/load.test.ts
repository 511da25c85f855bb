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
    expect(c.ports).toEqual({ portal: 9443, https: 8243, http: 8280, metrics: null });
    expect(c.oauth).toMatchObject({
      issuer: 'https://localhost:8243',
      accessTokenValidity: 3600,
      userAccessTokenValidity: 3600,
      refreshTokenValidity: 86400,
      authorizationCodeValidity: 300,
      timestampSkew: 300,
      refreshTokenReuseGrace: 10,
    });
    expect(c.security.lockout).toEqual({ maxFailures: 5, windowSeconds: 900, lockSeconds: 900, knownOriginDays: 30 });
    expect(c.security.attempts).toEqual({ perAddress: 30, perSession: 10, sessionsPerAddress: 60, windowSeconds: 60 });
    expect(c.security.passwordHashing).toEqual({ concurrency: 0, queueSize: 64 });
    expect(c.gateway).toMatchObject({ tokenCacheTtl: 300, negativeCacheTtl: 10, apiCacheTtl: 30, tokenCacheMegabytes: 16 });
    expect(c.dataDir).toBe(path.resolve('data'));
    expect(c.database.url).toBeUndefined();
    expect(Object.keys(c.throttling.tiers)).toEqual(['Gold', 'Silver', 'Bronze', 'Unlimited']);
  });

  it('shifts every port and the default issuer by the offset', () => {
    const c = loadConfig({ portOffset: 2 }, {});
    expect(c.ports).toEqual({ portal: 9445, https: 8245, http: 8282, metrics: null });
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

  it('names an unknown key, suggesting the one that was meant', () => {
    expect(() => loadConfig({ config: file('oauth:\n  acessTokenValidity: 5\n') }, {})).toThrow(/: oauth\.acessTokenValidity: unknown configuration key; did you mean accessTokenValidity\?$/);
    expect(() => loadConfig({ config: file('listeners:\n  portel: 5\n') }, {})).toThrow(/listeners\.portel: unknown configuration key; did you mean portal\?$/);
    expect(() => loadConfig({ config: file('cleanup:\n  zzz: 5\n') }, {})).toThrow(/cleanup\.zzz: unknown configuration key \(cleanup takes intervalSeconds, batchSize\)$/);
  });

  it('reports a tier key typo as one problem, not five', () => {
    const f = file('throttling:\n  tiers:\n    Gold: { requests: 10, perSecond: 60 }\n');
    expect(() => loadConfig({ config: f }, {})).toThrow(new ConfigError(`invalid configuration in ${f}: throttling.tiers.Gold.perSecond: unknown configuration key; did you mean perSeconds?`));
    expect(() => loadConfig({ config: file('throttling:\n  tiers:\n    Gold: { requests: 10 }\n') }, {})).toThrow(/throttling\.tiers\.Gold: must have required properties perSeconds$/);
    expect(() => loadConfig({ config: file('throttling:\n  tiers:\n    Gold: unlimitd\n') }, {})).toThrow(/throttling\.tiers\.Gold: must be \{ requests: N, perSeconds: S \} or unlimited$/);
  });

  it('blames the flag or the variable, and checks every layer even where a higher one overrides it', () => {
    expect(() => loadConfig({ portOffset: '-300' }, {})).toThrow(new ConfigError('invalid --port-offset -300: portOffset: must be >= 0'));
    expect(() => loadConfig({}, { GATEHOUSE_LOG_LEVEL: 'verbose' })).toThrow(
      new ConfigError('invalid GATEHOUSE_LOG_LEVEL=verbose: log.level: must be one of trace, debug, info, warn, error, fatal, silent (any case)'),
    );
    const f = file('portOffset: -5\n');
    expect(() => loadConfig({ config: f, portOffset: 3 }, {})).toThrow(new ConfigError(`invalid configuration in ${f}: portOffset: must be >= 0`));
    // A URL may hold a password: the variable is named, its value is not repeated.
    expect(() => loadConfig({}, { GATEHOUSE_DATABASE_URL: 'mysql://u:secret@h/db' })).toThrow(/^invalid GATEHOUSE_DATABASE_URL: database\.url: must be a postgres:\/\/ or postgresql:\/\/ URL$/);
    const high = file('listeners:\n  portal: 20000\n');
    expect(() => loadConfig({ config: high, portOffset: 50000 }, {})).toThrow(new ConfigError('invalid --port-offset 50000: portOffset 50000 moves the portal port to 70000, past 65535'));
  });

  it('accepts log levels in any case', () => {
    expect(loadConfig({ config: file('log:\n  level: WARN\n') }, {}).log.level).toBe('warn');
    expect(loadConfig({}, { GATEHOUSE_LOG_LEVEL: 'Debug' }).log.level).toBe('debug');
  });

  it('resolves dataDir, tls.cert and tls.key in a file against the file\'s folder; flags against the current directory', () => {
    const f = file('dataDir: state\ntls:\n  cert: certs/c.pem\n  key: /abs/k.pem\n');
    const c = loadConfig({ config: f }, {});
    expect(c.dataDir).toBe(path.join(path.dirname(f), 'state'));
    expect(c.tls.cert).toBe(path.join(path.dirname(f), 'certs/c.pem'));
    expect(c.tls.key).toBe('/abs/k.pem');
    expect(loadConfig({ config: f, dataDir: 'here' }, {}).dataDir).toBe(path.resolve('here'));
    expect(loadConfig({}, { GATEHOUSE_DATA_DIR: 'env-dir' }).dataDir).toBe(path.resolve('env-dir'));
  });

  it('keeps the default tiers (Unlimited always) and adds or overrides configured ones', () => {
    const c = loadConfig({ config: file('throttling:\n  tiers:\n    Gold: { requests: 50, perSeconds: 60 }\n    Trial: { requests: 5, perSeconds: 60 }\n') }, {});
    expect(c.throttling.tiers).toEqual({
      Gold: { requests: 50, perSeconds: 60 },
      Silver: { requests: 2000, perSeconds: 60 },
      Bronze: { requests: 1000, perSeconds: 60 },
      Unlimited: 'unlimited',
      Trial: { requests: 5, perSeconds: 60 },
    });
    expect(() => loadConfig({ config: file('throttling:\n  tiers:\n    Unlimited: { requests: 1, perSeconds: 1 }\n') }, {})).toThrow(/throttling\.tiers\.Unlimited must stay unlimited/);
  });

  it('gives each listener its own host (listeners.host by default) and can turn plain HTTP off', () => {
    const c = loadConfig({ config: file('listeners:\n  host: 10.0.0.5\n  portalHost: 127.0.0.1\n') }, {});
    expect(c.hosts).toEqual({ portal: '127.0.0.1', https: '10.0.0.5', http: '10.0.0.5', metrics: null });
    expect(loadConfig({}, {}).hosts).toEqual({ portal: '0.0.0.0', https: '0.0.0.0', http: '0.0.0.0', metrics: null });
    const off = loadConfig({ config: file('listeners:\n  http: false\n'), portOffset: 1 }, {});
    expect(off.ports).toEqual({ portal: 9444, https: 8244, http: null, metrics: null });
    expect(() => loadConfig({ config: file('listeners:\n  http: true\n') }, {})).toThrow(/listeners\.http: must be a port number \(0 to 65535\) or false/);
    expect(() => loadConfig({ config: file('listeners:\n  http: 70000\n') }, {})).toThrow(/listeners\.http: must be <= 65535$/);
  });

  it('has the RFC 9325 TLS policy by default, configurable', () => {
    const c = loadConfig({}, {});
    expect(c.tls.minVersion).toBe('TLSv1.2');
    expect(c.tls.ciphers.split(':')).toEqual([
      'TLS_AES_128_GCM_SHA256',
      'TLS_AES_256_GCM_SHA384',
      'TLS_CHACHA20_POLY1305_SHA256',
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ]);
    expect(loadConfig({ config: file('tls:\n  minVersion: TLSv1.3\n') }, {}).tls.minVersion).toBe('TLSv1.3');
    expect(() => loadConfig({ config: file('tls:\n  minVersion: TLSv1.1\n') }, {})).toThrow(/tls\.minVersion: must be TLSv1\.2 or TLSv1\.3$/);
  });

  it('names a key with a bad value', () => {
    expect(() => loadConfig({ config: file('oauth:\n  userAccessTokenValidity: soon\n') }, {})).toThrow(/oauth\.userAccessTokenValidity: must be integer/);
    expect(() => loadConfig({ config: file('oauth:\n  authorizationCodeValidity: 6000\n') }, {})).toThrow(/oauth\.authorizationCodeValidity/);
    expect(() => loadConfig({}, { GATEHOUSE_DATABASE_URL: 'mysql://x' })).toThrow(/database\.url/);
    expect(() => loadConfig({ portOffset: 'two' }, {})).toThrow(ConfigError);
    expect(() => loadConfig({ config: file('gateway:\n  tokenCacheMegabytes: 0\n') }, {})).toThrow(/gateway\.tokenCacheMegabytes/);
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

  it('metrics.listen: host:port, shifted by the port offset; metrics.token from the file or GATEHOUSE_METRICS_TOKEN, never echoed', () => {
    const c = loadConfig({ config: file('metrics:\n  listen: 127.0.0.1:9100\n'), portOffset: 2 }, { GATEHOUSE_METRICS_TOKEN: 'a-long-enough-metrics-token' });
    expect(c.ports.metrics).toBe(9102);
    expect(c.hosts.metrics).toBe('127.0.0.1');
    expect(c.metrics.token).toBe('a-long-enough-metrics-token');
    expect(loadConfig({}, {}, { metrics: { listen: '[::1]:9100' } }).hosts.metrics).toBe('::1');
    const bad = file('metrics:\n  listen: localhost\n');
    expect(() => loadConfig({ config: bad }, {})).toThrow(`invalid configuration in ${bad}: metrics.listen: must be host:port, such as 127.0.0.1:9100 or [::1]:9100`);
    expect(() => loadConfig({ config: file('metrics:\n  listen: 127.0.0.1:70000\n') }, {})).toThrow(/metrics\.listen: port 70000 is past 65535/);
    let message = '';
    try {
      loadConfig({}, { GATEHOUSE_METRICS_TOKEN: 'short' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('invalid GATEHOUSE_METRICS_TOKEN: metrics.token: must not have fewer than 16 characters');
  });

  it('log.access is off by default', () => {
    expect(loadConfig({}, {}).log).toEqual({ level: 'info', access: false });
    expect(loadConfig({ config: file('log:\n  access: true\n') }, {}).log.access).toBe(true);
  });
});

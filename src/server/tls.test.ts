import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/load.js';
import { RFC9325_CIPHERS } from '../config/schema.js';
import { checkTlsPair } from './tls.js';

const policy = { ciphers: RFC9325_CIPHERS, minVersion: 'TLSv1.2' as const };

describe('checkTlsPair', () => {
  let dir: string;
  const at = (f: string) => path.join(dir, f);
  const check = (cert: string, key: string, now?: Date) => checkTlsPair({ cert: at(cert), key: at(key), certSetting: 'tls.cert', keySetting: 'tls.key' }, policy, now);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('a.key'), '-out', at('a.crt'), '-subj', '/CN=localhost', '-days', '30');
    openssl('genrsa', '-out', at('b.key'), '2048');
    openssl('pkey', '-in', at('a.key'), '-aes256', '-passout', 'pass:secret', '-out', at('enc.key'));
    writeFileSync(at('junk.pem'), 'hello\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a matching pair with the RFC 9325 policy and no warnings', () => {
    const pair = check('a.crt', 'a.key');
    expect(pair.warnings).toEqual([]);
    expect(pair.serverOptions).toMatchObject({ ciphers: RFC9325_CIPHERS, minVersion: 'TLSv1.2', honorCipherOrder: true });
  });

  it('explains two RSA keys that are not a pair', () => {
    expect(() => check('a.crt', 'b.key')).toThrow(new ConfigError(`tls.key ${at('b.key')} does not belong to the certificate in tls.cert ${at('a.crt')}: both are RSA 2048-bit, but a different key pair`));
  });

  it('names an encrypted key and a file that is not PEM', () => {
    expect(() => check('a.crt', 'enc.key')).toThrow(new ConfigError(`tls.key: ${at('enc.key')} is encrypted with a passphrase; give the unencrypted key (readable only by this user)`));
    expect(() => check('junk.pem', 'a.key')).toThrow(new ConfigError(`tls.cert: ${at('junk.pem')} is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)`));
    expect(() => check('a.crt', 'junk.pem')).toThrow(new ConfigError(`tls.key: ${at('junk.pem')} is not a PEM private key (no -----BEGIN … PRIVATE KEY----- line)`));
  });

  it('warns (without refusing) about an expired certificate', () => {
    const later = new Date(Date.now() + 60 * 86400_000);
    const [warning] = check('a.crt', 'a.key', later).warnings;
    expect(warning).toMatch(new RegExp(`^tls\\.cert ${at('a.crt').replaceAll('.', '\\.')} expired on \\d{4}-\\d\\d-\\d\\dT.*: clients will refuse it$`));
  });
});

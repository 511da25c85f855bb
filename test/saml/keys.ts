// Fresh throw-away keys and self-signed certificates for each test run, made with openssl into a
// temp dir (never committed). Used both by the in-process test signer and by xmlsec1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKey {
  name: string;
  kind: 'rsa' | 'ec';
  keyPath: string;
  certPath: string;
  keyPem: string;
  certPem: string;
}

export interface KeyStore {
  dir: string;
  make(name: string, kind: 'rsa' | 'ec', bits?: number): TestKey;
  cleanup(): void;
}

export function keyStore(): KeyStore {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-saml-'));
  return {
    dir,
    make(name, kind, bits = 2048) {
      const keyPath = join(dir, `${name}.key.pem`);
      const certPath = join(dir, `${name}.cert.pem`);
      const newkey = kind === 'rsa' ? ['-newkey', `rsa:${bits}`] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
      execFileSync(
        'openssl',
        ['req', '-x509', ...newkey, '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${name}`, '-keyout', keyPath, '-out', certPath],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      return { name, kind, keyPath, certPath, keyPem: readFileSync(keyPath, 'utf8'), certPem: readFileSync(certPath, 'utf8') };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

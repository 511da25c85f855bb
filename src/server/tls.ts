import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { generate } from 'selfsigned';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where it came from, for the start-up log. */
  origin: string;
  /** What the HTTPS listeners are created (or, on SIGHUP, re-keyed) with. */
  serverOptions: SecureContextOptions;
  /** Things an operator should hear about that do not stop the start (an expired certificate). */
  warnings: string[];
}

type TlsConfig = Pick<Config, 'tls' | 'dataDir'>;

const REASONS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' };

function readPem(setting: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new ConfigError(`${setting}: cannot read ${file}: ${REASONS[code] ?? code}`);
  }
}

const holdsKey = (pem: string) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem);
const holdsCert = (pem: string) => pem.includes('-----BEGIN CERTIFICATE-----');

function parseCert(setting: string, file: string, pem: string): X509Certificate {
  if (!holdsCert(pem)) {
    if (holdsKey(pem)) throw new ConfigError(`${setting}: ${file} holds a private key, not a certificate: are tls.cert and tls.key swapped?`);
    throw new ConfigError(`${setting}: ${file} is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)`);
  }
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new ConfigError(`${setting}: ${file}: the certificate does not parse (${(err as Error).message})`);
  }
}

function parseKey(setting: string, file: string, pem: string): KeyObject {
  if (!holdsKey(pem)) {
    if (holdsCert(pem)) throw new ConfigError(`${setting}: ${file} holds a certificate, not a private key: are tls.cert and tls.key swapped?`);
    throw new ConfigError(`${setting}: ${file} is not a PEM private key (no -----BEGIN … PRIVATE KEY----- line)`);
  }
  if (pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new ConfigError(`${setting}: ${file} is encrypted with a passphrase; give the unencrypted key (readable only by this user)`);
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new ConfigError(`${setting}: ${file}: the private key does not parse (${(err as Error).message})`);
  }
}

/** "RSA 2048-bit", "EC prime256v1", "Ed25519": enough to see why two keys differ. */
function describeKey(k: KeyObject): string {
  const d = k.asymmetricKeyDetails ?? {};
  const type = (k.asymmetricKeyType ?? 'unknown').toUpperCase().replace('ED25519', 'Ed25519');
  if (d.modulusLength) return `${type} ${d.modulusLength}-bit`;
  if (d.namedCurve) return `${type} ${d.namedCurve}`;
  return type;
}

/**
 * Reads and checks a certificate and its key the way a handshake would use them, so that a
 * problem stops the start with one line naming the setting, instead of a node that listens and
 * then fails every handshake.
 */
export function checkTlsPair(
  files: { cert: string; key: string; certSetting: string; keySetting: string },
  policy: Pick<Config['tls'], 'ciphers' | 'minVersion'>,
  now = new Date(),
): { cert: string; key: string; serverOptions: SecureContextOptions; warnings: string[] } {
  const certPem = readPem(files.certSetting, files.cert);
  const keyPem = readPem(files.keySetting, files.key);
  if (holdsKey(certPem) && holdsCert(keyPem) && !holdsCert(certPem)) {
    throw new ConfigError(`${files.certSetting} and ${files.keySetting} are swapped: ${files.cert} holds the private key and ${files.key} the certificate`);
  }
  const x509 = parseCert(files.certSetting, files.cert, certPem);
  const key = parseKey(files.keySetting, files.key, keyPem);
  if (!x509.checkPrivateKey(key)) {
    const certKey = describeKey(x509.publicKey);
    const privKey = describeKey(key);
    const why = certKey === privKey ? `both are ${certKey}, but a different key pair` : `the certificate's key is ${certKey}, the private key is ${privKey}`;
    throw new ConfigError(`${files.keySetting} ${files.key} does not belong to the certificate in ${files.certSetting} ${files.cert}: ${why}`);
  }
  const serverOptions: SecureContextOptions = {
    cert: certPem,
    key: keyPem,
    minVersion: policy.minVersion,
    ciphers: policy.ciphers,
    honorCipherOrder: true,
  };
  try {
    createSecureContext(serverOptions);
  } catch (err) {
    const message = (err as Error).message;
    if (/cipher/i.test(message)) throw new ConfigError(`tls.ciphers: OpenSSL accepts none of "${policy.ciphers}" (${message})`);
    throw new ConfigError(`${files.certSetting} ${files.cert}: OpenSSL refuses the certificate and key (${message})`);
  }
  const warnings: string[] = [];
  if (new Date(x509.validTo) < now) warnings.push(`${files.certSetting} ${files.cert} expired on ${new Date(x509.validTo).toISOString()}: clients will refuse it`);
  if (new Date(x509.validFrom) > now) warnings.push(`${files.certSetting} ${files.cert} is not valid before ${new Date(x509.validFrom).toISOString()}`);
  return { cert: certPem, key: keyPem, serverOptions, warnings };
}

async function selfSigned(certFile: string, keyFile: string): Promise<void> {
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 825 * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  mkdirSync(path.dirname(certFile), { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  writeFileSync(certFile, pems.cert, { mode: 0o644 });
}

/**
 * The configured certificate and key, or a self-signed pair for localhost kept in
 * <dataDir>/tls so it survives restarts (generated on first start); checked as a pair, with
 * the RFC 9325 cipher policy (or the configured one) applied.
 */
export async function loadTls(config: TlsConfig): Promise<TlsMaterial> {
  if (config.tls.cert && config.tls.key) {
    const pair = checkTlsPair({ cert: config.tls.cert, key: config.tls.key, certSetting: 'tls.cert', keySetting: 'tls.key' }, config.tls);
    return { ...pair, origin: config.tls.cert };
  }
  const dir = path.join(config.dataDir, 'tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  let origin = `${certFile} (self-signed)`;
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    await selfSigned(certFile, keyFile);
    origin = `${certFile} (self-signed, generated now)`;
  }
  const label = 'the self-signed certificate (no tls.cert/tls.key set)';
  const pair = checkTlsPair({ cert: certFile, key: keyFile, certSetting: label, keySetting: 'its key' }, config.tls);
  return { ...pair, origin };
}

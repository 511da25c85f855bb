import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK } from 'jose';

export interface SigningKey {
  privateKey: KeyObject;
  kid: string;
  alg: 'ES256';
  /** The public half as a JWK, for /.well-known/jwks.json. */
  publicJwk: Record<string, unknown>;
}

/**
 * The node's JWT signing key (ES256), kept in <dataDir>/keys so it survives restarts; created
 * on first start. The key id is the RFC 7638 thumbprint, so it changes only with the key.
 */
export async function loadSigningKey(dataDir: string): Promise<SigningKey> {
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, 'jwt-signing-key.pem');
  let privateKey: KeyObject;
  if (existsSync(file)) {
    privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  } else {
    privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const { d: _d, ...publicOnly } = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicOnly as Parameters<typeof calculateJwkThumbprint>[0]);
  return { privateKey, kid, alg: 'ES256', publicJwk: { ...publicOnly, kid, alg: 'ES256', use: 'sig' } };
}

import { createCipheriv, createDecipheriv, createPrivateKey, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';

/**
 * Private keys at rest in a shared database: AES-256-GCM under a key derived (HKDF-SHA256) from
 * the operator's key-encryption secret, with the key id as associated data (a ciphertext moved to
 * another row does not decrypt). Format: `v1.<iv>.<tag>.<ciphertext>`, base64url.
 */
export function deriveKek(secret: string | Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'gatehouse signing keys v1', 32));
}

export function wrapKey(kek: Buffer, kid: string, key: KeyObject): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(kid));
  const pem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  const ct = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

/** The private key, or undefined when `kek` is not the one it was wrapped with (or the text is damaged). */
export function unwrapKey(kek: Buffer, kid: string, wrapped: string): KeyObject | undefined {
  const [v, iv, tag, ct] = wrapped.split('.');
  if (v !== 'v1' || !iv || !tag || ct === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(kid));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const pem = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

/** A fresh ES256 key pair. */
export function newSigningKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/** The public JWK (kid = RFC 7638 thumbprint, alg, use) of a private key. */
export async function publicJwkOf(privateKey: KeyObject): Promise<{ kid: string; jwk: Record<string, unknown> }> {
  const { d: _d, ...publicOnly } = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicOnly as Parameters<typeof calculateJwkThumbprint>[0]);
  return { kid, jwk: { ...publicOnly, kid, alg: 'ES256', use: 'sig' } };
}

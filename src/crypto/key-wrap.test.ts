import { describe, expect, it } from 'vitest';
import { deriveKek, newSigningKey, publicJwkOf, unwrapKey, wrapKey } from './key-wrap.js';

describe('signing keys at rest', () => {
  const kek = deriveKek('a-cluster-secret-of-at-least-32-characters!');

  it('round-trips a private key; the stored text holds no PEM and differs every time', async () => {
    const key = newSigningKey();
    const { kid, jwk } = await publicJwkOf(key);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid, alg: 'ES256', use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
    const wrapped = wrapKey(kek, kid, key);
    expect(wrapped).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(wrapped).not.toContain('PRIVATE KEY');
    expect(wrapKey(kek, kid, key)).not.toBe(wrapped);
    const back = unwrapKey(kek, kid, wrapped);
    expect(back?.export({ format: 'jwk' })).toEqual(key.export({ format: 'jwk' }));
  });

  it('does not open with another secret, under another kid, or when altered', async () => {
    const key = newSigningKey();
    const { kid } = await publicJwkOf(key);
    const wrapped = wrapKey(kek, kid, key);
    expect(unwrapKey(deriveKek('another-secret-of-at-least-32-characters!!'), kid, wrapped)).toBeUndefined();
    expect(unwrapKey(kek, 'another-kid', wrapped)).toBeUndefined();
    const parts = wrapped.split('.');
    parts[3] = (parts[3]!.startsWith('A') ? 'B' : 'A') + parts[3]!.slice(1);
    expect(unwrapKey(kek, kid, parts.join('.'))).toBeUndefined();
    expect(unwrapKey(kek, kid, 'not-a-wrapped-key')).toBeUndefined();
  });
});

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSigningKey } from './signing-key.js';

describe('the node signing key', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes the public half of an ES256 key, and keeps the same key across restarts', async () => {
    const key = await loadSigningKey(dir);
    expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: key.kid, alg: 'ES256', use: 'sig' });
    expect(key.publicJwk).not.toHaveProperty('d');
    expect((await loadSigningKey(dir)).kid).toBe(key.kid);
    expect(statSync(path.join(dir, 'keys', 'jwt-signing-key.pem')).mode & 0o777).toBe(0o600);
  });
});

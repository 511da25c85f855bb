import { describe, expect, it } from 'vitest';
import { opaqueTokens } from './token-format.js';

describe('opaque token format', () => {
  it('keys tokens by base64url SHA-256, the key the store, the events and the gateway cache share', () => {
    expect(opaqueTokens.key('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
  it('generates 256-bit base64url tokens', () => {
    expect(opaqueTokens.generate()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

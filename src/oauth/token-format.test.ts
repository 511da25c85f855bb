import { describe, expect, it } from 'vitest';
import { opaqueTokens } from './token-format.js';

describe('opaque token format', () => {
  it('generates a time prefix (the second of issue, hex) then 256 random bits in base64url', () => {
    const t = opaqueTokens.generate(1_800_000_000);
    expect(t).toMatch(/^006b49d200[A-Za-z0-9_-]{43}$/);
    expect(new Set(Array.from({ length: 1000 }, () => opaqueTokens.generate(1_800_000_000))).size).toBe(1000);
  });
  it('keys a token by its prefix and the base64url SHA-256 of the whole token', () => {
    expect(opaqueTokens.key('006b49d200abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ')).toBe('006b49d200OoQh_Nwt3N9uCgwRgxRn36KVscOyyEMsLJlHkT94WNY');
  });
  it('keys of later tokens sort after earlier ones, so the index grows at its end', () => {
    const keys = [1_800_000_000, 1_800_000_001, 1_800_086_400, 2_000_000_000].map((s) => opaqueTokens.key(opaqueTokens.generate(s)));
    expect([...keys].sort()).toEqual(keys);
  });
  it('keys anything else (tokens issued before the prefix, junk) by its SHA-256 alone', () => {
    expect(opaqueTokens.key('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    expect(opaqueTokens.key('006b49d200abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP')).toHaveLength(43); // one short
    expect(opaqueTokens.key('006B49D200abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ')).toHaveLength(43); // upper-case hex
  });
});

import { describe, expect, it } from 'vitest';
import { constantTimeEqual, secretMatchesHash, sha256 } from './hash.js';
import { newConsumerKey, newConsumerSecret, newOpaqueToken } from './random.js';

describe('secrets', () => {
  it('generates URL-safe keys, secrets and tokens of the promised entropy', () => {
    expect(newConsumerKey()).toMatch(/^[A-Za-z0-9_-]{28}$/); // 168 bits
    expect(newConsumerSecret()).toMatch(/^[A-Za-z0-9_-]{32}$/); // 192 bits
    expect(newOpaqueToken()).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    expect(new Set(Array.from({ length: 1000 }, newOpaqueToken)).size).toBe(1000);
  });
  it('matches a secret against its stored hash', () => {
    expect(secretMatchesHash('s', sha256('s'))).toBe(true);
    expect(secretMatchesHash('t', sha256('s'))).toBe(false);
    expect(secretMatchesHash('s', 'short')).toBe(false);
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});

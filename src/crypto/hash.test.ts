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

describe('uuidv7', () => {
  it('is a version-7 UUID that sorts by time', async () => {
    const { uuidv7 } = await import('./random.js');
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(a.slice(0, 13)).toBe('018bcfe5-6800');
    expect(uuidv7()).not.toBe(uuidv7());
  });
});

import { createHash, hash, timingSafeEqual } from 'node:crypto';

/**
 * SHA-256 of a high-entropy secret (token, client secret), as base64url: what we store, and
 * the key of the gateway's validation cache. One-shot crypto.hash (Node ≥ 20.12) costs a third
 * of createHash() on these hot paths.
 */
export function sha256(value: string): string {
  return hash('sha256', value, 'base64url');
}

/**
 * Constant-time comparison of two strings of any length: both sides are hashed first,
 * so the comparison never leaks the length or a matching prefix.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** Compares a presented secret with its stored SHA-256 hash in constant time. */
export function secretMatchesHash(presented: string, storedHash: string): boolean {
  const a = hash('sha256', presented, 'buffer');
  const b = Buffer.from(storedHash, 'base64url');
  if (b.length !== a.length) return false;
  return timingSafeEqual(a, b);
}

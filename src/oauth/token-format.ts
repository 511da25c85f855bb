import { sha256 } from '../crypto/hash.js';
import { newOpaqueToken } from '../crypto/random.js';

/**
 * How tokens look on the wire and how they are keyed in the store: a swappable strategy.
 * `key` is what the store holds, what invalidation events carry and what the gateway caches by.
 */
export interface TokenFormat {
  /** A new token issued at `now` (Unix seconds). */
  generate(now: number): string;
  key(token: string): string;
}

/** Hex digits of the time prefix: Unix seconds, enough until the year 36812. */
const PREFIX = 10;
const TIME_ORDERED = /^[0-9a-f]{10}[A-Za-z0-9_-]{43}$/;

/**
 * The default, opaque: a time prefix (the second it was issued, 10 hex digits) then 256 random
 * bits in base64url, 53 characters; stored only as its key, the same prefix then the SHA-256
 * (base64url) of the whole token.
 *
 * Why the prefix: a key that is only a hash lands on a random page of the token index, and
 * once the index is far larger than the page cache every insert reads and dirties a page of
 * its own (and, on PostgreSQL, writes it whole to the WAL after each checkpoint): issuance
 * slows as tokens pile up. Keys that start with the time append at the index's end, where the
 * pages are hot, at any size (bench/growth/key-shape.mjs). The prefix tells nothing but when
 * the token was issued, as `iat` does in a JWT; the secret is the 256 random bits.
 *
 * Tokens without the prefix (43 characters, issued before it) keep the key they were stored
 * under, their SHA-256 alone.
 */
export const opaqueTokens: TokenFormat = {
  generate: (now) => Math.floor(now).toString(16).padStart(PREFIX, '0') + newOpaqueToken(),
  key: (token) => (token.length === 53 && TIME_ORDERED.test(token) ? token.slice(0, PREFIX) + sha256(token) : sha256(token)),
};

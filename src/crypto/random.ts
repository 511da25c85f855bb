import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * Token bytes come from a 4 KiB pool of CSPRNG output refilled in one call, instead of one
 * call per token (it showed in the token endpoint's profile). Each slice is zeroed once used,
 * so issued secrets do not linger in the pool. Node pools randomUUID()'s bytes the same way.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

/**
 * Opaque random strings in the base64url alphabet, so they never need URL-encoding
 * in a form body, a query string or an HTTP Basic credential.
 */
export function randomToken(bytes: number): string {
  if (bytes > POOL_SIZE / 4) return randomBytes(bytes).toString('base64url');
  if (poolOffset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  const token = slice.toString('base64url');
  slice.fill(0);
  return token;
}

/** 32 bytes (256 bits) for access and refresh tokens and authorization codes. */
export const newOpaqueToken = (): string => randomToken(32);

/** Consumer key: 21 bytes = 168 bits, 28 characters (the length WSO2's keys had). */
export const newConsumerKey = (): string => randomToken(21);

/** Consumer secret: 24 bytes = 192 bits, 32 characters. */
export const newConsumerSecret = (): string => randomToken(24);

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
  return takeRandom(bytes, (slice) => slice.toString('base64url'));
}

/** Hands `use` the next `bytes` bytes of the pool, then wipes them. */
function takeRandom<T>(bytes: number, use: (slice: Buffer) => T): T {
  if (bytes > POOL_SIZE / 4) return use(randomBytes(bytes));
  if (poolOffset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  const result = use(slice);
  slice.fill(0);
  return result;
}

/** 32 bytes (256 bits) for access and refresh tokens and authorization codes. */
export const newOpaqueToken = (): string => randomToken(32);

/** Consumer key: 21 bytes = 168 bits, 28 characters (the length WSO2's keys had). */
export const newConsumerKey = (): string => randomToken(21);

/** Consumer secret: 24 bytes = 192 bits, 32 characters. */
export const newConsumerSecret = (): string => randomToken(24);

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Grant ids are
 * indexed; time-ordered ids land at the end of the index instead of on a random page, which
 * keeps the token tables' inserts cheap.
 */
export function uuidv7(now = Date.now()): string {
  const b = Buffer.allocUnsafe(16);
  b.writeUIntBE(now, 0, 6);
  takeRandom(10, (r) => r.copy(b, 6));
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

import { randomBytes } from 'node:crypto';

/**
 * Opaque random strings in the base64url alphabet, so they never need URL-encoding
 * in a form body, a query string or an HTTP Basic credential.
 */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** 32 bytes (256 bits) for access and refresh tokens and authorization codes. */
export const newOpaqueToken = (): string => randomToken(32);

/** Consumer key: 21 bytes = 168 bits, 28 characters (the length WSO2's keys had). */
export const newConsumerKey = (): string => randomToken(21);

/** Consumer secret: 24 bytes = 192 bits, 32 characters. */
export const newConsumerSecret = (): string => randomToken(24);

import { randomUUID } from 'node:crypto';
import { sha256 } from '../../src/crypto/hash.js';
import type { TokenRecord } from '../../src/store/index.js';

/** A stored token record for data-layer tests: a fresh key and grant, alice's password-grant token, live until 2096. */
export function tokenRecord(over: Partial<TokenRecord> = {}): TokenRecord {
  return {
    tokenHash: sha256(Math.random().toString()),
    grantId: randomUUID(),
    consumerKey: 'ck',
    applicationId: 'app',
    subject: 'alice',
    username: 'alice',
    scope: ['default'],
    keyType: 'PRODUCTION',
    grantType: 'password',
    idp: null,
    issuedAt: 1000,
    expiresAt: 4_000_000_000,
    revokedAt: null,
    ...over,
  };
}

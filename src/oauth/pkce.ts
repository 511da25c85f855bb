import { constantTimeEqual, sha256 } from '../crypto/hash.js';

/**
 * PKCE (RFC 7636), S256 only: `plain` offers no protection when the authorization request
 * leaks, so it is refused (RFC 9700 §2.1.1), and so is a challenge without a method (which
 * RFC 7636 §4.3 would read as plain).
 */
/** base64url(SHA-256(verifier)) without padding: always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export type ChallengeProblem = 'method_without_challenge' | 'method_unsupported' | 'challenge_malformed';

/** Checks an authorization request's code_challenge / code_challenge_method; returns what is wrong, if anything. */
export function checkChallenge(challenge: string | undefined, method: string | undefined): ChallengeProblem | undefined {
  if (challenge === undefined) return method === undefined ? undefined : 'method_without_challenge';
  if (method !== 'S256') return 'method_unsupported';
  if (!S256_CHALLENGE.test(challenge)) return 'challenge_malformed';
  return undefined;
}

export const isWellFormedVerifier = (verifier: string): boolean => VERIFIER.test(verifier);

/** S256 transformation of a code verifier. */
export const s256 = (verifier: string): string => sha256(verifier);

/** Whether the verifier answers the S256 challenge; compared in constant time. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  return isWellFormedVerifier(verifier) && constantTimeEqual(s256(verifier), challenge);
}

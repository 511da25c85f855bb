import { describe, expect, it } from 'vitest';
import { checkChallenge, isWellFormedVerifier, s256, verifierMatches } from './pkce.js';

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE', () => {
  it('computes the RFC 7636 S256 example', () => {
    expect(s256(VERIFIER)).toBe(CHALLENGE);
    expect(verifierMatches(VERIFIER, CHALLENGE)).toBe(true);
  });

  it('refuses a wrong or malformed verifier', () => {
    expect(verifierMatches(VERIFIER.replace('d', 'e'), CHALLENGE)).toBe(false);
    expect(verifierMatches(CHALLENGE, CHALLENGE)).toBe(false);
    expect(isWellFormedVerifier('a'.repeat(42))).toBe(false);
    expect(isWellFormedVerifier('a'.repeat(43))).toBe(true);
    expect(isWellFormedVerifier('a'.repeat(128))).toBe(true);
    expect(isWellFormedVerifier('a'.repeat(129))).toBe(false);
    expect(isWellFormedVerifier(`${'a'.repeat(43)} `)).toBe(false);
    expect(isWellFormedVerifier(`${'a'.repeat(43)}+`)).toBe(false);
  });

  it('accepts only S256 challenges of the right shape', () => {
    expect(checkChallenge(undefined, undefined)).toBeUndefined();
    expect(checkChallenge(CHALLENGE, 'S256')).toBeUndefined();
    expect(checkChallenge(CHALLENGE, 'plain')).toBe('method_unsupported');
    expect(checkChallenge(CHALLENGE, undefined)).toBe('method_unsupported');
    expect(checkChallenge(CHALLENGE, 's256')).toBe('method_unsupported');
    expect(checkChallenge(undefined, 'S256')).toBe('method_without_challenge');
    expect(checkChallenge(CHALLENGE.slice(1), 'S256')).toBe('challenge_malformed');
    expect(checkChallenge(`${CHALLENGE.slice(1)}=`, 'S256')).toBe('challenge_malformed');
  });
});

import { describe, expect, it } from 'vitest';
import { clientMayHold, grantScope, narrowScope, parseScope } from './scope.js';

const confidential = { keyType: 'PRODUCTION' as const, secretHash: 'hash' };
const publicClient = { keyType: 'PRODUCTION' as const, secretHash: null };

describe('scope', () => {
  it('parses space-separated tokens, dedupes and sorts them', () => {
    expect(parseScope('b a  b')).toEqual(['a', 'b']);
    expect(parseScope(undefined)).toEqual([]);
  });
  it('refuses characters outside RFC 6749 §3.3', () => {
    expect(() => parseScope('a\\b')).toThrow(/RFC 6749/);
    expect(() => parseScope('"x"')).toThrow(/RFC 6749/);
  });
  it('grants default when nothing is asked and checks PRODUCTION/SANDBOX against the key type', () => {
    expect(grantScope([], confidential)).toEqual(['default']);
    expect(grantScope(['PRODUCTION'], confidential)).toEqual(['PRODUCTION']);
    expect(() => grantScope(['SANDBOX'], confidential)).toThrow(/does not match/);
  });
  it('grants manage to a confidential client only (invalid_scope for a public one, in RFC 6749 description characters)', () => {
    expect(grantScope(['manage'], confidential)).toEqual(['manage']);
    expect(grantScope(['default', 'x'], publicClient)).toEqual(['default', 'x']);
    let refusal: unknown;
    try {
      grantScope(['default', 'manage'], publicClient);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toMatchObject({
      error: 'invalid_scope',
      description: 'scope manage (the admin API as the user) is for confidential clients only, and this client has no secret: ask without manage',
    });
    expect((refusal as { description: string }).description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
    // a refresh checks the scope it would grant: a public client's older grant renews only without manage
    expect(() => clientMayHold(narrowScope([], ['default', 'manage']), publicClient)).toThrow(/confidential clients only/);
    expect(() => clientMayHold(narrowScope(['default'], ['default', 'manage']), publicClient)).not.toThrow();
  });
  it('never widens on refresh', () => {
    expect(narrowScope([], ['a', 'b'])).toEqual(['a', 'b']);
    expect(narrowScope(['a'], ['a', 'b'])).toEqual(['a']);
    expect(() => narrowScope(['c'], ['a', 'b'])).toThrow(/may not widen/);
  });
});

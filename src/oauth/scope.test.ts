import { describe, expect, it } from 'vitest';
import { grantScope, narrowScope, parseScope } from './scope.js';

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
    expect(grantScope([], 'PRODUCTION')).toEqual(['default']);
    expect(grantScope(['PRODUCTION'], 'PRODUCTION')).toEqual(['PRODUCTION']);
    expect(() => grantScope(['SANDBOX'], 'PRODUCTION')).toThrow(/does not match/);
  });
  it('never widens on refresh', () => {
    expect(narrowScope([], ['a', 'b'])).toEqual(['a', 'b']);
    expect(narrowScope(['a'], ['a', 'b'])).toEqual(['a']);
    expect(() => narrowScope(['c'], ['a', 'b'])).toThrow(/may not widen/);
  });
});

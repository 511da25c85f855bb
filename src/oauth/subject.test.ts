import { describe, expect, it } from 'vitest';
import { USERNAME_PATTERN } from '../manage/rules.js';
import { presentedSubject, qualifiedSubject } from './subject.js';

describe('qualifiedSubject', () => {
  it('is <entity ID>|<NameID>, never a local username', () => {
    expect(qualifiedSubject('https://idp.example.org/saml', 'alice')).toBe('https://idp.example.org/saml|alice');
    expect(USERNAME_PATTERN.test(qualifiedSubject('urn:idp', 'alice'))).toBe(false);
    expect(presentedSubject({ subject: 'alice', idp: null })).toBe('alice');
    expect(presentedSubject({ subject: 'alice', idp: 'urn:idp' })).toBe('urn:idp|alice');
  });

  it('is unambiguous: the first "|" ends the entity ID, whose "%" and "|" are escaped', () => {
    const pairs: [string, string][] = [['urn:a', 'b|c'], ['urn:a|b', 'c'], ['urn:a%7Cb', 'c'], ['urn:a%7Cb|c', ''], ['urn:x', '%7C']];
    const seen = new Set<string>();
    for (const [idp, nameId] of pairs) {
      const q = qualifiedSubject(idp, nameId);
      const bar = q.indexOf('|');
      expect(decodeURIComponent(q.slice(0, bar))).toBe(idp);
      expect(q.slice(bar + 1)).toBe(nameId);
      seen.add(q);
    }
    expect(seen.size).toBe(pairs.length);
  });
});

import { describe, expect, it } from 'vitest';
import { REPEATED_AUTHORIZATION, REPEATED_HOST, repeatedHeaders } from './repeated-headers.js';

describe('repeatedHeaders', () => {
  it('flags a second Host or Authorization in any letter case, and nothing else', () => {
    expect(repeatedHeaders(['Host', 'a', 'Authorization', 'Bearer x', 'Accept', '*/*'])).toBe(0);
    expect(repeatedHeaders(['Host', 'a', 'HOST', 'b'])).toBe(REPEATED_HOST);
    expect(repeatedHeaders(['authorization', 'Bearer x', 'AUTHORIZATION', 'Basic y'])).toBe(REPEATED_AUTHORIZATION);
    expect(repeatedHeaders(['host', 'a', 'Authorization', 'x', 'hOsT', 'b', 'authorization', 'y'])).toBe(REPEATED_HOST | REPEATED_AUTHORIZATION);
    // Names of the same length are not mistaken for them; values are never read.
    expect(repeatedHeaders(['Hast', 'a', 'Hast', 'b', 'Authorisation', 'x', 'Authorisation', 'y', 'X', 'Authorization'])).toBe(0);
    expect(repeatedHeaders([])).toBe(0);
  });
});

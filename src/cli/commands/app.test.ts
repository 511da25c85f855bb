import { describe, expect, it } from 'vitest';
import { validateCallbackUrl } from './app.js';

describe('validateCallbackUrl', () => {
  it('accepts ASCII absolute URLs as given', () => {
    for (const ok of ['https://app.example.com/callback', 'https://xn--r8jz45g.jp/cb', 'http://127.0.0.1/cb?x=%C3%A9', 'com.example.app:/oauth2redirect']) {
      expect(validateCallbackUrl(ok)).toBe(ok);
    }
  });

  it('refuses non-ASCII (it would break every redirect later), suggesting the encoded form', () => {
    expect(() => validateCallbackUrl('https://例え.jp/cb')).toThrow(/punycode.*https:\/\/xn--r8jz45g\.jp\/cb/);
    expect(() => validateCallbackUrl('https://app.example.com/café')).toThrow(/percent-encode.*caf%C3%A9/);
  });

  it('refuses spaces around or inside, and control characters', () => {
    expect(() => validateCallbackUrl(' https://app.example.com/cb')).toThrow(/spaces around/);
    expect(() => validateCallbackUrl('https://app.example.com/cb\n')).toThrow(/spaces around/);
    expect(() => validateCallbackUrl('https://app.example.com/a b')).toThrow(/only ASCII without spaces/);
    expect(() => validateCallbackUrl('https://app.example.com/a\u0000b')).toThrow(/control characters/);
  });

  it('still refuses fragments, dangerous schemes and relative URLs', () => {
    expect(() => validateCallbackUrl('https://app.example.com/cb#x')).toThrow(/fragment/);
    expect(() => validateCallbackUrl('javascript:alert(1)')).toThrow(/scheme/);
    expect(() => validateCallbackUrl('/cb')).toThrow(/absolute URL/);
  });
});

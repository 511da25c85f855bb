import { describe, expect, it } from 'vitest';
import { MAX_CONTEXT_SEGMENTS } from '../types.js';
import { callbackUrl, context, origins, password } from './rules.js';

const validateCallbackUrl = (raw: string) => callbackUrl(raw, false);

describe('callback URLs', () => {
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

describe('callback URLs over plain http (RFC 9700 §2.1)', () => {
  it('are refused on a non-loopback host, saying why and how to allow them', () => {
    expect(() => callbackUrl('http://app.example.com/cb', false)).toThrow(/use https.*RFC 9700.*oauth\.allowInsecureCallbacks/);
    expect(callbackUrl('http://app.example.com/cb', true)).toBe('http://app.example.com/cb');
  });
  it('are accepted for loopback hosts, as native apps use them (RFC 8252)', () => {
    for (const ok of ['http://127.0.0.1:8000/cb', 'http://[::1]/cb', 'http://localhost:3000/cb']) expect(callbackUrl(ok, false)).toBe(ok);
  });
});

describe('passwords (NIST SP 800-63B)', () => {
  it('need at least 8 characters, counted as characters, and may be long', () => {
    expect(() => password('a')).toThrow(/at least 8 characters/);
    expect(() => password('1234567')).toThrow(/at least 8 characters/);
    expect(password('12345678')).toBe('12345678');
    expect(password('ééééééé€')).toBe('ééééééé€');
    expect(password('x'.repeat(64))).toHaveLength(64);
    expect(() => password('x'.repeat(1025))).toThrow(/longer than 1024/);
    expect(() => password('alice-in-wonderland', 'alice-in-wonderland')).toThrow(/may not be the username/);
  });
});

describe('contexts and CORS origins', () => {
  it('keep APIs off the node\'s own paths', () => {
    expect(context('weather')).toBe('/weather');
    for (const bad of ['/token', '/api/x', '/store', '/.well-known', '/a/../b']) expect(() => context(bad)).toThrow();
  });
  it('accept exact origins only', () => {
    expect(origins(['https://spa.example.com', 'http://localhost:5173'])).toEqual(['https://spa.example.com', 'http://localhost:5173']);
    for (const bad of ['https://spa.example.com/', 'https://spa.example.com/app', 'http://spa.example.com', '*']) expect(() => origins([bad])).toThrow(/origin/);
  });
});

describe('context depth', () => {
  it('accepts as many segments as the gateway routes, and refuses one more, saying the limit', () => {
    expect(MAX_CONTEXT_SEGMENTS).toBe(4);
    expect(context('/a/b/c/d')).toBe('/a/b/c/d');
    expect(() => context('/a/b/c/d/e')).toThrow('context "/a/b/c/d/e" has 5 path segments: the gateway routes contexts of at most 4 (such as /partners/eu/weather/daily), so calls to this one would never reach it');
    expect(() => context('a/b/c/d/e/f')).toThrow(/has 6 path segments.*at most 4/);
  });
});

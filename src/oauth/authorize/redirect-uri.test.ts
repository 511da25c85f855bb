import { describe, expect, it } from 'vitest';
import { redirectUriMatches, resolveRedirectUri, withParams } from './redirect-uri.js';

describe('redirect URI matching', () => {
  it('is an exact string comparison', () => {
    const reg = 'https://app.example/cb';
    expect(redirectUriMatches(reg, reg)).toBe(true);
    for (const other of ['https://app.example/cb?x=1', 'https://app.example/cb#f', 'https://APP.example/cb', 'https://app.example/CB', 'https://app.example/cb/', 'https://app.example:443/cb', 'https://app.example/cb%2F', 'http://app.example/cb']) {
      expect(redirectUriMatches(other, reg)).toBe(false);
    }
  });

  it('lets a loopback callback match on any port (RFC 8252 §7.3), nothing else', () => {
    expect(redirectUriMatches('http://127.0.0.1:50123/cb', 'http://127.0.0.1/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:8080/cb')).toBe(true);
    expect(redirectUriMatches('http://[::1]:50123/cb?a=1', 'http://[::1]/cb?a=1')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:50123', 'http://127.0.0.1')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:50123/other', 'http://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:50123/cb?x', 'http://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:50123/cb#x', 'http://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:99999/cb', 'http://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('http://[::1]:1/cb', 'http://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('http://localhost:50123/cb', 'http://localhost/cb')).toBe(false);
    expect(redirectUriMatches('https://127.0.0.1:50123/cb', 'https://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:50123@evil.example/cb', 'http://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1.evil.example/cb', 'http://127.0.0.1/cb')).toBe(false);
  });

  it('may omit redirect_uri only when one is registered', () => {
    expect(resolveRedirectUri(undefined, ['a:/x'])).toEqual({ ok: true, redirectUri: 'a:/x', sent: false });
    expect(resolveRedirectUri(undefined, ['a:/x', 'b:/y']).ok).toBe(false);
    expect(resolveRedirectUri(undefined, []).ok).toBe(false);
    expect(resolveRedirectUri('b:/y', ['a:/x', 'b:/y'])).toEqual({ ok: true, redirectUri: 'b:/y', sent: true });
    expect(resolveRedirectUri('c:/z', ['a:/x', 'b:/y']).ok).toBe(false);
  });

  it('appends response parameters after the callback\'s own query', () => {
    expect(withParams('https://a.example/cb', { code: 'c', state: undefined })).toBe('https://a.example/cb?code=c');
    expect(withParams('https://a.example/cb?t=1', { code: 'c', state: 'a b&c' })).toBe('https://a.example/cb?t=1&code=c&state=a+b%26c');
    expect(withParams('com.example:/cb', { error: 'access_denied' })).toBe('com.example:/cb?error=access_denied');
  });
});

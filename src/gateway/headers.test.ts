import { describe, expect, it } from 'vitest';
import { allowedSetCookie, withoutOwnCookies } from './cookies.js';
import { cleanResponseHeaders, extractBearer, MALFORMED } from './headers.js';
import { TrustedProxies } from './proxies.js';
import { hasDotSegment, validTarget } from './target.js';

describe('extractBearer', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER\tabc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Bearer abc, Something: else', 'abc'],
    ['Bearer abc,Basic x', 'abc'],
    ['Bearer abc , x', 'abc'],
    ['Bearer a.b-c_d~e+f/g=', 'a.b-c_d~e+f/g='],
    ['Bearer abc==', 'abc=='],
  ])('%j → %j', (h, tok) => expect(extractBearer(h)).toBe(tok));

  it.each([undefined, '', 'Basic YTpi', 'Bearerabc', 'Token abc', 'Bearez abc', 'Bear'])('%j → no Bearer credential', (h) => {
    expect(extractBearer(h)).toBeUndefined();
  });

  // RFC 6750 §3.1: a Bearer credential that is not `Bearer <b64token>` is a malformed request
  it.each(['Bearer', 'Bearer ', 'Bearer  ', 'Bearer ,x', 'Bearer,x', 'Bearer a b', 'Bearer abc def, x', 'Bearer ab=c', 'Bearer tok!', 'Bearer "tok"', 'Bearer tök'])('%j → malformed', (h) => {
    expect(extractBearer(h)).toBe(MALFORMED);
  });
});

describe('validTarget', () => {
  it.each(['/a/b?c=d&e=%2F', "/a/-._~!$&'()*+,;=:@/x?y=/?", '/', '/a/%20b'])('%j is allowed', (u) => expect(validTarget(u)).toBe(true));
  it.each(['/probe/v1/..#/x', '/a b', '/a"b', '/a<b>', '/a\\b', '/a^b', '/a`b', '/a{b}', '/a|b', '/a[0]', '/a?x=[1]', '/caf\u00e9', '/a\u0001', '/a%', '/a%2', '/a%zz', '/a\u007f'])(
    '%j is refused',
    (u) => expect(validTarget(u)).toBe(false),
  );
});

describe('hasDotSegment', () => {
  it.each(['/a/../b', '/a/./b', '/a/..', '/a/.', '/a/%2e%2e/b', '/a/%2E./b', '/a/..%2fb', '/a/..%5Cb', '/a\\..\\b', '/..', '/api/..;/other', '/api/..;jsessionid=x/other', '/api/.;x/y', '/api/..%3b/x', '/api/%2e%2e;/x', '/a/..;'])(
    '%j is refused',
    (p) => expect(hasDotSegment(p)).toBe(true),
  );
  it.each(['/a/1.0/b', '/a/file.tar.gz', '/a/...', '/a/.well-known', '/a/b..c', '/a/%20x', '/a/x;y=1/b', '/a/...;x/b'])('%j is fine', (p) => {
    expect(hasDotSegment(p)).toBe(false);
  });
});

describe('cleanResponseHeaders', () => {
  it('drops hop-by-hop headers and those named by Connection', () => {
    const h = cleanResponseHeaders({
      connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'x-hop': '1',
      upgrade: 'h2c', trailer: 'x', 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'],
    }, '/api/v1');
    expect(h).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });

  it('drops the Set-Cookie values a backend may not send', () => {
    const h = cleanResponseHeaders({ 'set-cookie': ['gatehouse_session=x; Path=/authorize', 'ok=1; Path=/api/v1/x'] }, '/api/v1');
    expect(h['set-cookie']).toEqual(['ok=1; Path=/api/v1/x']);
    expect(cleanResponseHeaders({ 'set-cookie': ['__Host-gatehouse=1'] }, '/api/v1')).toEqual({});
  });
});

describe('allowedSetCookie', () => {
  it.each([
    '__Secure-gatehouse_session=abc; Path=/authorize; Secure; HttpOnly',
    'gatehouse_session=abc',
    'GATEHOUSE_SESSION=abc; Path=/api/v1',
    '__Host-gatehouse-x=1; Path=/; Secure',
    '__host-gatehouse=1',
    'gatehouse=1',
    ' gatehouse_csrf=1',
    '=gatehouse_session=abc',
    'gatehouse_session',
    'a=1; Path=/',
    'a=1; Path=/authorize',
    'a=1; Path=/api/v1x',
    'a=1; Path=/api',
    'a=1; Path=/api/v1; Path=/',
    'a=1; path=/other',
  ])('%j is dropped', (c) => expect(allowedSetCookie(c, '/api/v1')).toBe(false));

  it.each(['a=1', 'a=1; Path=/api/v1', 'a=1; Path=/api/v1/', 'a=1; Path=/api/v1/x; HttpOnly', 'a=1; Path=relative', 'mygatehouse=1', 'a=gatehouse_session'])(
    '%j is kept',
    (c) => expect(allowedSetCookie(c, '/api/v1')).toBe(true),
  );
});

describe('TrustedProxies', () => {
  it('matches addresses and CIDR ranges, IPv4-mapped IPv6 as IPv4', () => {
    const t = new TrustedProxies(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
    expect(t.has('10.1.2.3')).toBe(true);
    expect(t.has('::ffff:10.1.2.3')).toBe(true);
    expect(t.has('192.0.2.7')).toBe(true);
    expect(t.has('192.0.2.8')).toBe(false);
    expect(t.has('fd12::1')).toBe(true);
    expect(t.has('2001:db8::1')).toBe(false);
    expect(t.has(undefined)).toBe(false);
    expect(new TrustedProxies([]).has('10.1.2.3')).toBe(false);
  });

  it.each(['10.0.0.0/33', 'proxy.example', '10.0.0.0/x', '::1/129', ''])('%j is refused at start', (e) => {
    expect(() => new TrustedProxies([e])).toThrow(/gateway\.trustedProxies/);
  });
});

describe('withoutOwnCookies', () => {
  it.each([
    ['theme=dark', 'theme=dark'],
    ['theme=dark; lang=en', 'theme=dark; lang=en'],
    ['__Host-gatehouse_portal=s1; theme=dark', 'theme=dark'],
    ['theme=dark; __Host-gatehouse_csrf=c1;lang=en', 'theme=dark; lang=en'],
    ['gatehouse_session=x; __Secure-gatehouse_session=y; __HOST-GATEHOUSE_PORTAL=z; a=1', 'a=1'],
    // a nameless pair whose value a server reads as gatehouse_session=x
    ['=gatehouse_session=x; a=1', 'a=1'],
    // a value that merely mentions the name is another cookie's
    ['note=gatehouse_session', 'note=gatehouse_session'],
  ])('%j → %j', (cookie, kept) => expect(withoutOwnCookies(cookie)).toBe(kept));

  it.each(['__Host-gatehouse_portal=s1', 'gatehouse_session=x;  __Host-gatehouse_csrf=c', ' ; gatehouse_session=x; '])('%j → no Cookie header at all', (cookie) => {
    expect(withoutOwnCookies(cookie)).toBeUndefined();
  });
});

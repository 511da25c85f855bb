import { describe, expect, it } from 'vitest';
import { cleanResponseHeaders, extractBearer, hasDotSegment } from './headers.js';

describe('extractBearer', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER\tabc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Bearer abc, Something: else', 'abc'],
    ['Bearer abc,Basic x', 'abc'],
    ['Bearer a.b-c_d~e+f/g=', 'a.b-c_d~e+f/g='],
  ])('%j → %j', (h, tok) => expect(extractBearer(h)).toBe(tok));

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Bearer  ', 'Bearer ,x', 'Basic YTpi', 'Bearerabc', 'Token abc', 'Bearez abc'])('%j → none', (h) => {
    expect(extractBearer(h)).toBeUndefined();
  });
});

describe('hasDotSegment', () => {
  it.each(['/a/../b', '/a/./b', '/a/..', '/a/.', '/a/%2e%2e/b', '/a/%2E./b', '/a/..%2fb', '/a/..%5Cb', '/a\\..\\b', '/..'])('%j is refused', (p) => {
    expect(hasDotSegment(p)).toBe(true);
  });
  it.each(['/a/1.0/b', '/a/file.tar.gz', '/a/...', '/a/.well-known', '/a/b..c', '/a/%20x'])('%j is fine', (p) => {
    expect(hasDotSegment(p)).toBe(false);
  });
});

describe('cleanResponseHeaders', () => {
  it('drops hop-by-hop headers and those named by Connection', () => {
    const h = cleanResponseHeaders({
      connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'x-hop': '1',
      upgrade: 'h2c', trailer: 'x', 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'],
    });
    expect(h).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });
});

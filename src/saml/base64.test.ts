import { describe, expect, test } from 'vitest';
import { decodeAssertionParam } from './base64.js';
import { SamlValidationError } from './errors.js';

// Chosen so that its base64 uses '+' and '/' (standard) / '-' and '_' (url-safe) and needs padding.
const XML = '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">é?>~ÿ?></saml:Assertion>x';
const bytes = Buffer.from(XML, 'utf8');
const std = bytes.toString('base64');
const url = bytes.toString('base64url');

function refused(param: string, pattern: RegExp, maxBytes?: number): void {
  let caught: unknown;
  try {
    decodeAssertionParam(param, maxBytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SamlValidationError);
  expect((caught as SamlValidationError).description).toMatch(pattern);
}

describe('decodeAssertionParam', () => {
  test('the fixture exercises both alphabets and padding', () => {
    expect(std).toMatch(/[+/]/);
    expect(url).toMatch(/[-_]/);
    expect(std).toMatch(/=$/);
    expect(url).not.toMatch(/=/);
  });

  test.each([
    ['base64url unpadded', url],
    ['base64url padded', url + '='.repeat((4 - (url.length % 4)) % 4)],
    ['standard padded', std],
    ['standard unpadded', std.replace(/=+$/, '')],
    ['standard with 76-column CRLF line breaks (MIME)', std.replace(/.{76}/g, '$&\r\n')],
    ['url-safe with LF line breaks, spaces and tabs', ` ${url.replace(/.{20}/g, '$&\n\t')} \n`],
  ])('%s decodes', (_name, param) => {
    expect(decodeAssertionParam(param)).toBe(XML);
  });

  test('a UTF-8 BOM is dropped', () => {
    expect(decodeAssertionParam(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]).toString('base64'))).toBe(XML);
  });

  test.each([
    ['characters outside both alphabets', 'PHNhbWw6!!!'],
    ['percent-encoding left in', 'PHNhbWw6QXNz%3D'],
    ['padding in the middle', 'PHNh=bWw6'],
    ['too much padding', 'PHNhbWw===' ],
    ['padding on a wrong length', 'PHNhbWw6Q='],
    ['impossible length (4n+1)', 'PHNhb'],
    ['a data: URL', 'data:text/xml;base64,PHNhbWw6'],
  ])('garbage is refused: %s', (_name, param) => refused(param, /not valid base64url/));

  test('empty and whitespace-only are refused', () => {
    refused('', /empty/);
    refused(' \r\n\t ', /empty/);
  });

  test('non-UTF-8 bytes are refused', () => {
    refused(Buffer.from([0x3c, 0x61, 0x3e, 0xe9, 0x3c, 0x2f, 0x61, 0x3e]).toString('base64url'), /UTF-8/); // Latin-1 "é"
    refused(Buffer.from([0xc0, 0xaf]).toString('base64'), /UTF-8/); // overlong "/"
    refused(Buffer.from([0xed, 0xa0, 0x80]).toString('base64'), /UTF-8/); // encoded surrogate
  });

  test('the size cap applies to the decoded bytes, before decoding', () => {
    // The default cap is 16 KiB.
    const big = Buffer.alloc(16385, 0x61).toString('base64url');
    refused(big, /too large/);
    expect(decodeAssertionParam(Buffer.alloc(16384, 0x61).toString('base64url'))).toHaveLength(16384);
    refused(url, /too large/, 16);
    refused('A'.repeat(10_000_000), /too large/); // refused without scanning 10 MB
  });

  test('a non-string parameter is refused, not crashed on', () => {
    refused(undefined as unknown as string, /missing/);
  });
});

import { fail } from './errors.js';
import { DEFAULT_MAX_BYTES } from './types.js';

const WHITESPACE = /[ \t\r\n]+/g;
// Standard and URL-safe alphabets (a sender may even mix them), optional trailing padding only.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes the RFC 7522 `assertion` parameter: base64url (also standard base64), with or without
 * padding, with whitespace (line breaks) tolerated. Returns the XML text; the bytes must be
 * well-formed UTF-8 and at most `maxBytes` long.
 */
export function decodeAssertionParam(param: string, maxBytes: number = DEFAULT_MAX_BYTES): string {
  if (typeof param !== 'string') fail('assertion parameter is missing');
  // Bound the work before touching the input: 4/3 expansion plus generous room for line breaks.
  if (param.length > maxBytes * 2 + 1024) fail('assertion is too large');
  const compact = param.replace(WHITESPACE, '');
  if (compact.length === 0) fail('assertion parameter is empty');
  if (!BASE64.test(compact)) fail('assertion is not valid base64url');
  const padded = compact.endsWith('=');
  if ((padded && compact.length % 4 !== 0) || compact.length % 4 === 1) {
    fail('assertion is not valid base64url');
  }
  if (Math.floor((compact.replace(/=+$/, '').length * 3) / 4) > maxBytes) fail('assertion is too large');
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length === 0) fail('assertion parameter is empty');
  if (bytes.length > maxBytes) fail('assertion is too large');
  try {
    return utf8.decode(bytes);
  } catch {
    return fail('assertion is not valid UTF-8');
  }
}

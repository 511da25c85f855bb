/**
 * Checks of the request target before any routing: only the characters RFC 3986 allows in an
 * origin-form target (RFC 9112 §3.2.1), and no dot segments a backend could normalise into a
 * path outside the API's base path.
 */

/**
 * 1 for the characters allowed in a path or query as they are: unreserved, sub-delims,
 * ":", "@", "/", "?", and "%" (which must start a %XX escape). Everything else (controls,
 * space, `"`, "#", "<", ">", "[", "\", "]", "^", "`", "{", "|", "}", DEL, non-ASCII) is refused.
 */
const ALLOWED = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%") ALLOWED[c.charCodeAt(0)] = 1;

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);

/** True when every character of the target is allowed and every "%" starts a %XX escape. */
export function validTarget(url: string): boolean {
  const n = url.length;
  for (let i = 0; i < n; i++) {
    const c = url.charCodeAt(i);
    if (c >= 128 || ALLOWED[c] === 0) return false;
    if (c === 37 /* % */ && (i + 2 >= n || !isHex(url.charCodeAt(i + 1)) || !isHex(url.charCodeAt(i + 2)))) return false;
  }
  return true;
}

/**
 * True when the path has a "." or ".." segment, literal or percent-encoded, with "/", "\" or an
 * encoded slash as separators, and also with path parameters (`..;x`, `.%3bx`), which Tomcat
 * and other servlet containers strip before normalising: such a path could climb out of the
 * backend's base path once the backend normalises it.
 */
export function hasDotSegment(path: string): boolean {
  if (path.indexOf('/.') === -1 && path.indexOf('%') === -1 && path.indexOf('\\') === -1) return false;
  return DOT_SEGMENT.test(path);
}
const DOT_SEGMENT = /(?:^|\/|\\|%2f|%5c)(?:\.|%2e){1,2}(?:(?:;|%3b)[^/\\]*)?(?:$|\/|\\|%2f|%5c|\?)/i;

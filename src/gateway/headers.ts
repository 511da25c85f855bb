import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { filterSetCookie, withoutOwnCookies } from './cookies.js';
import type { TrustedProxies } from './proxies.js';

/**
 * Request headers that never go to the backend: RFC 9110 §7.6.1 hop-by-hop ones, the client's
 * credentials (the gateway consumed them), Host (the backend's own is set by the HTTP client),
 * Expect (answered by this server), the X-Forwarded ones the gateway sets itself, and every
 * header a backend might read as a statement of the proxy about the client or the original
 * request (`Forwarded`, `X-Real-IP`, `X-Original-URL`, `X-Rewrite-URL`, …): a client could
 * forge them. Header names with "_" are dropped too (see `forwardHeaders`).
 */
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'authorization', 'host', 'expect', 'http2-settings',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
  // only the gateway may assert identity to backends: a client-sent assertion never passes
  'x-jwt-assertion',
  // what a backend may believe about the client or the original request: never the client's word
  'forwarded', 'x-real-ip', 'x-original-url', 'x-rewrite-url',
  'x-forwarded-port', 'x-forwarded-prefix', 'x-forwarded-server', 'x-forwarded-ssl',
  'x-client-ip', 'true-client-ip', 'x-cluster-client-ip',
]);

/** Response headers that are not passed back to the client. */
const DROP_RESPONSE = ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate'];

const join = (a: string | undefined, b: string): string => (a === undefined ? b : a + ', ' + b);

/**
 * Builds the flat [name, value, ...] header list for the backend from the client's raw headers
 * (case and duplicates preserved), dropping the headers above, `Proxy-*`, the ones `Connection`
 * names, Gatehouse's own cookies from `Cookie` (see cookies.ts), and any name containing "_"
 * (CGI/WSGI backends read `X_JWT_Assertion` and `X-JWT-Assertion` as the same
 * `HTTP_X_JWT_ASSERTION`). Then the gateway's own:
 *
 * - `X-Forwarded-For`: the peer address; when the peer is a trusted proxy, appended to the
 *   X-Forwarded-For it sent (a client's own X-Forwarded-For never passes otherwise);
 * - `X-Forwarded-Proto` and `X-Forwarded-Host`: this hop's scheme and Host, or a trusted
 *   proxy's values when it sent them;
 * - `X-JWT-Assertion` when `jwt` is given.
 *
 * `Forwarded` (RFC 7239) is not emitted: X-Forwarded-* carry the same and are what backends
 * read by default; a client's `Forwarded` is always dropped.
 */
export function forwardHeaders(req: IncomingMessage, trusted: TrustedProxies, jwt: string | undefined): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let host: string | undefined;
  let connection: string | undefined;
  let xff: string | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (DROP_REQUEST.has(lower)) {
      if (lower === 'host') host = value;
      else if (lower === 'connection') connection = connection === undefined ? value : connection + ',' + value;
      else if (lower === 'x-forwarded-for') xff = join(xff, value);
      else if (lower === 'x-forwarded-proto') xfProto ??= value;
      else if (lower === 'x-forwarded-host') xfHost ??= value;
      continue;
    }
    if (lower.indexOf('_') !== -1) continue;
    if (lower.length > 6 && lower.startsWith('proxy-')) continue;
    if (lower === 'cookie') {
      const kept = withoutOwnCookies(value);
      if (kept !== undefined) out.push(name, kept);
      continue;
    }
    out.push(name, value);
  }
  if (connection !== undefined) dropNamed(out, connection);
  const remote = req.socket.remoteAddress ?? '';
  const proto = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
  if (trusted.size !== 0 && trusted.has(remote)) {
    out.push('x-forwarded-for', join(xff, remote), 'x-forwarded-proto', xfProto ?? proto);
    if ((xfHost ?? host) !== undefined) out.push('x-forwarded-host', (xfHost ?? host)!);
  } else {
    out.push('x-forwarded-for', remote, 'x-forwarded-proto', proto);
    if (host !== undefined) out.push('x-forwarded-host', host);
  }
  if (jwt !== undefined) out.push('x-jwt-assertion', jwt);
  return out;
}

/** Removes from the flat list every header named in a Connection header value. */
function dropNamed(out: string[], connection: string): void {
  const named = new Set<string>();
  for (const part of connection.split(',')) {
    const t = part.trim().toLowerCase();
    if (t !== '' && t !== 'close' && t !== 'keep-alive') named.add(t);
  }
  if (named.size === 0) return;
  let w = 0;
  for (let r = 0; r < out.length; r += 2) {
    if (named.has(out[r]!.toLowerCase())) continue;
    out[w++] = out[r]!;
    out[w++] = out[r + 1]!;
  }
  out.length = w;
}

/**
 * Strips hop-by-hop headers (and the ones the backend's Connection header names) from a backend
 * response, in place, and the `Set-Cookie` values the client must not get (see cookies.ts) for
 * an API served under `apiPath`.
 */
export function cleanResponseHeaders(h: IncomingHttpHeaders, apiPath: string): IncomingHttpHeaders {
  const connection = h.connection;
  if (connection !== undefined) {
    for (const part of String(connection).split(',')) {
      const t = part.trim().toLowerCase();
      if (t !== '' && t !== 'close' && t !== 'keep-alive') delete h[t];
    }
  }
  for (let i = 0; i < DROP_RESPONSE.length; i++) {
    const k = DROP_RESPONSE[i]!;
    if (h[k] !== undefined) delete h[k];
  }
  const cookies = h['set-cookie'];
  if (cookies !== undefined) {
    const kept = filterSetCookie(Array.isArray(cookies) ? cookies : [String(cookies)], apiPath);
    if (kept.length === 0) delete h['set-cookie'];
    else h['set-cookie'] = kept;
  }
  return h;
}

/** What `extractBearer` answers for an Authorization header that claims Bearer but is not RFC 6750's form. */
export const MALFORMED = null;

/** RFC 6750 §2.1 b64token characters: ALPHA DIGIT "-" "." "_" "~" "+" "/" (then "=" padding). */
const B64TOKEN = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/') B64TOKEN[c.charCodeAt(0)] = 1;

/**
 * The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1).
 * Undefined when there is no Bearer credential at all (no header, another scheme: 401 Missing
 * Credentials). `MALFORMED` (null) when the header is a Bearer one but malformed: `Bearer` with
 * no token, two tokens (`Bearer a b`), or characters outside b64token (RFC 6750 §3.1: 400
 * invalid_request). WSO2's list form `Bearer tok, Other: x` works: after the token, optional
 * whitespace then a comma ends the credential.
 */
export function extractBearer(auth: string | undefined): string | undefined | null {
  if (auth === undefined || auth.length < 6) return undefined;
  // 'bearer' case-insensitively
  if ((auth.charCodeAt(0) | 0x20) !== 0x62 || (auth.charCodeAt(1) | 0x20) !== 0x65 ||
      (auth.charCodeAt(2) | 0x20) !== 0x61 || (auth.charCodeAt(3) | 0x20) !== 0x72 ||
      (auth.charCodeAt(4) | 0x20) !== 0x65 || (auth.charCodeAt(5) | 0x20) !== 0x72) return undefined;
  const n = auth.length;
  if (n === 6) return MALFORMED;
  let c = auth.charCodeAt(6);
  // another scheme that starts with "bearer" (Bearerx …) is not a Bearer credential
  if (c !== 0x20 && c !== 0x09) return c === 0x2c ? MALFORMED : undefined;
  let i = 7;
  while (i < n && ((c = auth.charCodeAt(i)) === 0x20 || c === 0x09)) i++;
  const start = i;
  while (i < n && (c = auth.charCodeAt(i)) < 128 && B64TOKEN[c] === 1) i++;
  while (i < n && auth.charCodeAt(i) === 0x3d /* = */) i++;
  const end = i;
  if (end === start) return MALFORMED;
  while (i < n && ((c = auth.charCodeAt(i)) === 0x20 || c === 0x09)) i++;
  if (i < n && auth.charCodeAt(i) !== 0x2c /* , */) return MALFORMED;
  return start === 7 && end === n ? auth.slice(7) : auth.slice(start, end);
}

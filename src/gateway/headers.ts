import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/**
 * Request headers that never go to the backend: RFC 9110 §7.6.1 hop-by-hop ones,
 * the client's credentials (the gateway consumed them), Host (the backend's own is
 * set by the HTTP client), Expect (answered by this server), and the X-Forwarded
 * ones that the gateway sets itself (X-Forwarded-For is appended to, not dropped).
 */
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'authorization', 'host', 'expect', 'x-forwarded-proto', 'x-forwarded-host', 'http2-settings',
  // only the gateway may assert identity to backends: a client-sent assertion never passes
  'x-jwt-assertion',
]);

/** Response headers that are not passed back to the client. */
const DROP_RESPONSE = ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate'];

/**
 * Builds the flat [name, value, ...] header list for the backend from the client's
 * raw headers (case and duplicates preserved), dropping hop-by-hop headers (plus the
 * ones `Connection` names), `Proxy-*` and Authorization, and adding X-Forwarded-For
 * (appended), X-Forwarded-Proto and X-Forwarded-Host. A client-sent X-JWT-Assertion is
 * always dropped; `extraName`/`extraValue` (the gateway's own X-JWT-Assertion) replace
 * any client-sent header of that (lowercase) name.
 */
export function forwardHeaders(req: IncomingMessage, extraName?: string, extraValue?: string): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let xff: string | undefined;
  let host: string | undefined;
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (DROP_REQUEST.has(lower)) {
      if (lower === 'host') host = value;
      else if (lower === 'connection') connection = connection === undefined ? value : connection + ',' + value;
      continue;
    }
    if (lower === 'x-forwarded-for') {
      xff = xff === undefined ? value : xff + ', ' + value;
      continue;
    }
    if (lower.length > 6 && lower.startsWith('proxy-')) continue;
    if (extraName !== undefined && lower === extraName) continue;
    out.push(name, value);
  }
  if (connection !== undefined) dropNamed(out, connection);
  const remote = req.socket.remoteAddress ?? '';
  out.push('x-forwarded-for', xff === undefined ? remote : xff + ', ' + remote);
  out.push('x-forwarded-proto', (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http');
  if (host !== undefined) out.push('x-forwarded-host', host);
  if (extraName !== undefined && extraValue !== undefined) out.push(extraName, extraValue);
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

/** Strips hop-by-hop headers (and the ones the backend's Connection header names) from a backend response, in place. */
export function cleanResponseHeaders(h: IncomingHttpHeaders): IncomingHttpHeaders {
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
  return h;
}

/**
 * Extracts the token from `Authorization: Bearer <tok>` (scheme case-insensitive).
 * Also accepts WSO2's list form `Bearer tok, Other: x`: the token ends at the first
 * comma or whitespace. Returns undefined when there is no bearer token.
 */
export function extractBearer(auth: string | undefined): string | undefined {
  if (auth === undefined || auth.length < 8) return undefined;
  // 'bearer' case-insensitively, then at least one space or tab
  if ((auth.charCodeAt(0) | 0x20) !== 0x62 || (auth.charCodeAt(1) | 0x20) !== 0x65 ||
      (auth.charCodeAt(2) | 0x20) !== 0x61 || (auth.charCodeAt(3) | 0x20) !== 0x72 ||
      (auth.charCodeAt(4) | 0x20) !== 0x65 || (auth.charCodeAt(5) | 0x20) !== 0x72) return undefined;
  let i = 6;
  const n = auth.length;
  let c = auth.charCodeAt(i);
  if (c !== 0x20 && c !== 0x09) return undefined;
  while (i < n && ((c = auth.charCodeAt(i)) === 0x20 || c === 0x09)) i++;
  const start = i;
  while (i < n && (c = auth.charCodeAt(i)) !== 0x2c && c !== 0x20 && c !== 0x09) i++;
  return i > start ? (start === 7 && i === n ? auth.slice(7) : auth.slice(start, i)) : undefined;
}

/**
 * True when the path has a "." or ".." segment, literal or percent-encoded, with
 * "/", "\" or an encoded slash as separators: such a path could climb out of the
 * backend's base path once the backend normalises it.
 */
export function hasDotSegment(path: string): boolean {
  if (path.indexOf('/.') === -1 && path.indexOf('%') === -1 && path.indexOf('\\') === -1) return false;
  return DOT_SEGMENT.test(path);
}
const DOT_SEGMENT = /(?:^|\/|\\|%2f|%5c)(?:\.|%2e){1,2}(?:$|\/|\\|%2f|%5c|\?)/i;

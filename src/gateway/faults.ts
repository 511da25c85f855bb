/**
 * WSO2-compatible fault responses: JSON `{"code","message","description"}`.
 *
 * Codes (WSO2 API Manager numbering, kept so existing clients keep working):
 *   900902 401 Missing Credentials            (no bearer token)
 *   900901 401 Invalid Credentials            (unknown / expired / revoked token)
 *   900908 403 Resource forbidden             (not subscribed, subscription blocked,
 *                                              sandbox key on an API without sandbox,
 *                                              subscription tier not configured)
 *   900906 404 No matching resource found     (no published API for /context/version)
 *   900800 429 Message throttled out          (+ Retry-After)
 *   900400 400 Bad request                    (gatehouse's own: dot segments in the path)
 *   101503 502 Runtime Error / Error connecting to the back end (refused, reset, DNS)
 *   101504 504 Runtime Error / Connection timed out (connect, headers or body timeout)
 *   900900 503 Unclassified Authentication Failure (store lookup failed)
 *   101500 500 Runtime Error                  (gatehouse's own: unexpected internal error)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REALM = 'gatehouse';
export const WWW_AUTH_MISSING = `Bearer realm="${REALM}"`;
export const WWW_AUTH_INVALID = `Bearer realm="${REALM}", error="invalid_token"`;

export function faultBody(code: string, message: string, description: string): string {
  return JSON.stringify({ code, message, description });
}

/** Pre-serialised bodies for the faults whose text never varies. */
export const MISSING_CREDENTIALS = Buffer.from(faultBody('900902', 'Missing Credentials',
  'Invalid Credentials. Make sure your API invocation call has a header: \'Authorization: Bearer <token>\''));
export const INVALID_CREDENTIALS = Buffer.from(faultBody('900901', 'Invalid Credentials',
  'Access failure for API: the access token is invalid, expired or revoked. Make sure you have provided the correct security credentials'));
export const THROTTLED = Buffer.from(faultBody('900800', 'Message throttled out',
  'You have exceeded your quota. Retry after the time given in the Retry-After header'));
export const BACKEND_UNREACHABLE = Buffer.from(faultBody('101503', 'Runtime Error', 'Error connecting to the back end'));
export const BACKEND_TIMEOUT = Buffer.from(faultBody('101504', 'Runtime Error', 'Connection timed out'));
export const INTERNAL_ERROR = Buffer.from(faultBody('101500', 'Runtime Error', 'Internal gateway error'));
export const DOT_SEGMENTS = Buffer.from(faultBody('900400', 'Bad Request', 'The request path must not contain "." or ".." segments'));

const CT_JSON = 'application/json; charset=utf-8';

/**
 * Writes a JSON fault on the raw response. When the client sent a request body
 * that nobody read, the connection is closed instead of draining the body.
 */
export function writeFault(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: Buffer | string,
  extraName?: string,
  extraValue?: string,
): void {
  if (res.headersSent || res.destroyed) {
    if (!res.destroyed) res.destroy();
    return;
  }
  const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const headers: string[] = ['content-type', CT_JSON, 'content-length', String(len)];
  if (extraName !== undefined && extraValue !== undefined) headers.push(extraName, extraValue);
  if (!req.complete && hasBody(req)) headers.push('connection', 'close');
  res.writeHead(status, headers);
  res.end(body);
}

export function hasBody(req: IncomingMessage): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}

export function forbidden(description: string): string {
  return faultBody('900908', 'Resource forbidden', description);
}

export function notFound(path: string): string {
  return faultBody('900906', 'No matching resource found for given API Request',
    `No published API matches the request path ${path.length > 200 ? path.slice(0, 200) + '…' : path}`);
}

export const STORE_UNAVAILABLE = Buffer.from(faultBody('900900', 'Unclassified Authentication Failure',
  'The gateway could not reach its store to validate the request; try again later'));

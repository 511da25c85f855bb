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
 *      405 405 Runtime Error / Method not allowed for given API resource (a method an API
 *                                              resource cannot have, e.g. PROPFIND, TRACE,
 *                                              QUERY; + Allow: the methods proxied)
 *   900800 429 Message throttled out          (+ Retry-After)
 *   900400 400 Bad Request                    (gatehouse's own: a character RFC 3986 does not allow
 *                                              in the request target, a dot segment, two Host
 *                                              headers, a malformed Bearer credential)
 *   101503 502 Runtime Error / Error connecting to the back end (refused, reset, DNS)
 *   101504 504 Runtime Error / Connection timed out (connect, headers or body timeout)
 *   900900 503 Unclassified Authentication Failure (store lookup failed; + Retry-After: 1)
 *   101500 500 Runtime Error                  (gatehouse's own: unexpected internal error)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError, type ErrorKind } from '../errors.js';
import { NO_HOST } from '../http/host.js';

export const REALM = 'gatehouse';
export const WWW_AUTH_MISSING = `Bearer realm="${REALM}"`;
export const WWW_AUTH_INVALID = `Bearer realm="${REALM}", error="invalid_token"`;
export const WWW_AUTH_MALFORMED = `Bearer realm="${REALM}", error="invalid_request"`;

const KIND: Record<number, ErrorKind> = { 400: 'invalid', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 405: 'invalid', 429: 'rate_limited', 503: 'unavailable' };

/**
 * A gateway fault: the product's error shape (kind, status, public message) with the WSO2
 * code and description, and its JSON body serialised once, so answering it costs a write.
 */
export class GatewayFault extends GatehouseError {
  override name = 'GatewayFault';
  readonly body: Buffer;

  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly description: string,
    /** One extra header (WWW-Authenticate on 401s). */
    readonly header?: readonly [name: string, value: string],
  ) {
    super(KIND[status] ?? 'internal', message, { status });
    this.body = Buffer.from(JSON.stringify({ code, message, description }));
  }
}

export const MISSING_CREDENTIALS = new GatewayFault(401, '900902', 'Missing Credentials',
  'Invalid Credentials. Make sure your API invocation call has a header: \'Authorization: Bearer <token>\'', ['www-authenticate', WWW_AUTH_MISSING]);
export const INVALID_CREDENTIALS = new GatewayFault(401, '900901', 'Invalid Credentials',
  'Access failure for API: the access token is invalid, expired or revoked. Make sure you have provided the correct security credentials', ['www-authenticate', WWW_AUTH_INVALID]);
export const THROTTLED = new GatewayFault(429, '900800', 'Message throttled out',
  'You have exceeded your quota. Retry after the time given in the Retry-After header');
export const BACKEND_UNREACHABLE = new GatewayFault(502, '101503', 'Runtime Error', 'Error connecting to the back end');
export const BACKEND_TIMEOUT = new GatewayFault(504, '101504', 'Runtime Error', 'Connection timed out');
export const INTERNAL_ERROR = new GatewayFault(500, '101500', 'Runtime Error', 'Internal gateway error');
export const DOT_SEGMENTS = new GatewayFault(400, '900400', 'Bad Request', 'The request path must not contain "." or ".." segments (also with ";" parameters)');
export const BAD_TARGET = new GatewayFault(400, '900400', 'Bad Request',
  'The request target may contain only the characters RFC 3986 allows: percent-encode "#", spaces, quotes, "<", ">", "[", "]", "{", "}", "|", "\\", "^", "`" and non-ASCII characters, and write "%" only as %XX');
export const DUPLICATE_HOST = new GatewayFault(400, '900400', 'Bad Request', 'The request has more than one Host header');
export const NO_HOST_FAULT = new GatewayFault(400, '900400', 'Bad Request', NO_HOST);
/** RFC 6750 §3.1: a Bearer credential that is not `Bearer <b64token>` is invalid_request, 400. */
export const MALFORMED_CREDENTIALS = new GatewayFault(400, '900400', 'Bad Request',
  'Malformed Authorization header: send exactly one token, \'Authorization: Bearer <token>\'', ['www-authenticate', WWW_AUTH_MALFORMED]);
/**
 * The methods the gateway proxies: the seven an API resource can have in WSO2 API Manager
 * (and in Gatehouse's API definitions). Anything else (WebDAV's PROPFIND, MKCOL, LOCK…,
 * PURGE, SEARCH, M-SEARCH, QUERY, TRACE) is refused before routing, whatever the path.
 */
export const PROXIED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
/** WSO2's answer to a method no resource of the API has: 405, its code and texts, and Allow. */
export const METHOD_NOT_ALLOWED = new GatewayFault(405, '405', 'Runtime Error', 'Method not allowed for given API resource',
  ['allow', [...PROXIED_METHODS].join(', ')]);
export const STORE_UNAVAILABLE = new GatewayFault(503, '900900', 'Unclassified Authentication Failure',
  'The gateway could not reach its store to validate the request; try again later');
/** Retry-After (seconds) on STORE_UNAVAILABLE: the database's probe interval. */
export const STORE_RETRY_AFTER = '1';

export function forbidden(description: string): GatewayFault {
  return new GatewayFault(403, '900908', 'Resource forbidden', description);
}

export function notFound(path: string): GatewayFault {
  return new GatewayFault(404, '900906', 'No matching resource found for given API Request',
    `No published API matches the request path ${path.length > 200 ? path.slice(0, 200) + '…' : path}`);
}

const CT_JSON = 'application/json; charset=utf-8';

/**
 * Writes a fault on the raw response, with its own extra header and optionally more (a flat
 * [name, value, …] list: Retry-After, X-RateLimit-*). When the client sent a request body that
 * nobody read, the connection is closed instead of draining the body.
 */
export function writeFault(req: IncomingMessage, res: ServerResponse, fault: GatewayFault, extra?: readonly string[]): void {
  if (res.headersSent || res.destroyed) {
    if (!res.destroyed) res.destroy();
    return;
  }
  const headers: string[] = ['content-type', CT_JSON, 'content-length', String(fault.body.length)];
  if (fault.header !== undefined) headers.push(fault.header[0], fault.header[1]);
  if (extra !== undefined) for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);
  if (!req.complete && hasBody(req) && !(extra !== undefined && extra.includes('connection'))) headers.push('connection', 'close');
  res.writeHead(fault.status, headers);
  res.end(fault.body);
}

export function hasBody(req: IncomingMessage): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}

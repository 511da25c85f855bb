import { GatehouseError, type ErrorKind } from '../errors.js';

/**
 * Every protocol error the OAuth endpoints return, in one place (RFC 6749 §5.2, RFC 7009,
 * RFC 7662). Handlers throw these; one error handler turns them into JSON responses.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable';

/**
 * An `error_description` as RFC 6749 §5.2 allows it: only %x20-21 / %x23-5B / %x5D-7E. A double
 * quote becomes a single one, line breaks and tabs a space; anything else outside the set
 * (backslash, control characters, non-ASCII) is dropped. Descriptions are written by us and
 * never echo what the client sent; this only guarantees the character set whatever happens.
 */
export function sanitizeDescription(description: string): string {
  return description
    .replace(/"/g, "'")
    .replace(/[\t\r\n]/g, ' ')
    .replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '');
}

const KIND: Partial<Record<OAuthErrorCode, ErrorKind>> = {
  invalid_client: 'unauthenticated',
  access_denied: 'forbidden',
  server_error: 'internal',
  temporarily_unavailable: 'unavailable',
};

/** An RFC 6749 error: the code and a description (the public message) in its character set. */
export class OAuthError extends GatehouseError {
  override name = 'OAuthError';
  readonly description: string;
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    status = 400,
    readonly headers: Record<string, string> = {},
    opts: { detail?: string; cause?: unknown } = {},
  ) {
    const clean = sanitizeDescription(description);
    super(KIND[error] ?? 'invalid', clean, { ...opts, status });
    this.description = clean;
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }

  /** Any error as the RFC 6749 error a client gets: ours as it is, the rest by kind. */
  static from(err: GatehouseError): OAuthError {
    if (err instanceof OAuthError) return err;
    const opts = { detail: err.detail, cause: err.cause ?? err };
    switch (err.kind) {
      case 'internal':
        return new OAuthError('server_error', 'The server could not complete the request.', 500, {}, opts);
      case 'unavailable': {
        const retry = (err as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1;
        return new OAuthError('temporarily_unavailable', err.message, 503, { 'Retry-After': String(retry) }, opts);
      }
      case 'unauthenticated':
        return invalidClient(err.message);
      default:
        return new OAuthError('invalid_request', err.message, err.status, {}, opts);
    }
  }
}

export const invalidRequest = (d: string) => new OAuthError('invalid_request', d);
export const invalidGrant = (d: string) => new OAuthError('invalid_grant', d);
export const invalidScope = (d: string) => new OAuthError('invalid_scope', d);
export const unauthorizedClient = (d: string) => new OAuthError('unauthorized_client', d);
export const unsupportedGrantType = (d: string) => new OAuthError('unsupported_grant_type', d);
/** 401 with a Basic challenge, as RFC 6749 §5.2 asks when the client tried Basic (or nothing). */
export const invalidClient = (d = 'Client authentication failed.') =>
  new OAuthError('invalid_client', d, 401, { 'WWW-Authenticate': 'Basic realm="gatehouse", charset="UTF-8"' });

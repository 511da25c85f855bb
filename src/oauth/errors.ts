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

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly description: string;
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    const clean = sanitizeDescription(description);
    super(`${error}: ${clean}`);
    this.description = clean;
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
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

/**
 * PostgreSQL refusing a value the client sent: 22021 (invalid byte sequence, e.g. a NUL) and
 * 22001 (value too long for its column). The endpoints refuse such input before it reaches the
 * database; this is the backstop that keeps any case they miss a 400 instead of a 500.
 */
export function isUnstorableInput(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '22021' || code === '22001';
}

import type { FastifyError } from 'fastify';
import { GatehouseError, internalError, Unavailable } from '../errors.js';
import { isSqliteBusy } from '../store/availability.js';

/**
 * PostgreSQL refusing a value the client sent: 22021 (invalid byte sequence, e.g. a NUL) and
 * 22001 (value too long for its column). The endpoints refuse such input before it reaches the
 * database; this is the backstop that keeps any case they miss a 400 instead of a 500.
 */
export function isUnstorableInput(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '22021' || code === '22001';
}

/**
 * Whatever reached a route's error handler, as a GatehouseError: ours as it is; fastify's own
 * refusals (body too large, bad content type: 400, or 415 where the interface says so; unreadable request) and unstorable input as 4xx
 * with a message that never quotes the request; anything else an internal error with its cause.
 */
export function toGatehouseError(err: unknown, messages: { tooLarge: string; badContentType: string; badContentTypeStatus?: 400 | 415 }): GatehouseError {
  if (err instanceof GatehouseError) return err;
  const e = err as FastifyError;
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new GatehouseError('too_large', messages.tooLarge);
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e?.code === 'FST_ERR_CTP_EMPTY_TYPE') {
    return new GatehouseError('invalid', messages.badContentType, { detail: e.code, status: messages.badContentTypeStatus ?? 400 });
  }
  // Fastify's own messages may quote the request (a header value): say what failed, not what was sent.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new GatehouseError('invalid', `The request could not be read (${e.code ?? 'bad request'}).`, { status: e.statusCode === 413 ? 413 : 400, detail: e.message });
  }
  // SQLite's lock held by another process past the wait: the documented 503, not a 500. (The
  // store's statements already throw DatabaseBusy; this is the backstop for any other path.)
  if (isSqliteBusy(err)) return new Unavailable('The database is busy; retry shortly.', { cause: err, detail: String((err as { code: unknown }).code) });
  if (isUnstorableInput(err)) return new GatehouseError('invalid', 'A parameter has a value that is too long or not valid text.', { cause: err });
  return internalError(err);
}

import type { FastifyError, FastifyReply } from 'fastify';
import { GatehouseError, type ErrorKind } from '../errors.js';

const TITLES: Record<ErrorKind, string> = {
  invalid: 'Invalid request',
  unauthenticated: 'Authentication required',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  too_large: 'Request too large',
  rate_limited: 'Too many requests',
  unavailable: 'Service unavailable',
  internal: 'Internal error',
};

export const PROBLEM_TYPE = (kind: ErrorKind) => `urn:gatehouse:problem:${kind.replace('_', '-')}`;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
}

/** RFC 9457 problem details for a GatehouseError: the public message only, never the private detail. */
export function problemOf(err: GatehouseError): ProblemBody {
  return {
    type: PROBLEM_TYPE(err.kind),
    title: TITLES[err.kind],
    status: err.status,
    detail: err.message,
    ...(err.field !== undefined ? { field: err.field } : {}),
  };
}

export function sendProblem(reply: FastifyReply, err: GatehouseError, headers: Record<string, string | string[]> = {}): FastifyReply {
  return reply.code(err.status).headers({ 'cache-control': 'no-store', ...headers }).type('application/problem+json').send(problemOf(err));
}

/**
 * The longest path parameter the portal listener routes: a username may have 255 characters
 * (manage/rules USERNAME_PATTERN, all unreserved in a path), so GET /api/v1/users/{username}
 * must reach every user. Longer is 414 before any route runs.
 */
export const MAX_PATH_PARAMETER = 255;

/**
 * Fastify's refusals before any route runs (`frameworkErrors`) as the API's problems: fixed
 * text that never quotes the request target.
 */
export function frameworkProblem(err: FastifyError): GatehouseError {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return new GatehouseError('invalid', `The request URL is too long: a path parameter has more than ${MAX_PATH_PARAMETER} characters.`, { status: 414 });
  if (err.code === 'FST_ERR_BAD_URL') return new GatehouseError('invalid', 'The request URL is not valid: write "%" only as %XX (percent-encoded UTF-8).');
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  return new GatehouseError('invalid', 'The request URL cannot be served.', { status });
}

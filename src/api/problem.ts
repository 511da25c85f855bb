import type { FastifyReply } from 'fastify';
import type { ErrorKind, GatehouseError } from '../errors.js';

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

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import { InvalidInput } from '../errors.js';
import type { Actor } from '../manage/index.js';
import { Problem } from './schemas.js';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  operationId: string;
  summary: string;
  tag: string;
  /** No credentials needed (signUp). */
  public?: boolean;
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  /** The body may be left out (it is then `{}`): POST …/keys/PRODUCTION with nothing to say. */
  optionalBody?: boolean;
  /** The success status: 200 unless given (201 for creations, 204 without a body). */
  status?: 200 | 201 | 204;
  response?: TSchema;
  handler(call: { actor: Actor; params: any; query: any; body: any; request: FastifyRequest }): Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling the admin API (set by its authentication hook). */
    actor?: Actor;
  }
  interface FastifyContextConfig {
    /** An admin API route that needs no credentials. */
    public?: boolean;
    /** Its body may be left out: the OpenAPI document says `requestBody.required: false` (see plugin.ts). */
    optionalBody?: boolean;
  }
}

/** Every error is RFC 9457 problem+json; the document says so (and fastify serialises by it). */
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } });
const ERRORS = { '4xx': problem('the request was refused (RFC 9457 problem details)'), '5xx': problem('the server failed or a dependency is down (RFC 9457 problem details)') };

/** The body of an operation that takes none: absent (or empty), or `{}`; anything else is refused as a body schema of no fields would refuse it. */
function refuseBody(body: unknown): void {
  if (body === undefined) return;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidInput(undefined, 'this operation takes no request body (send none, or {})');
  const [field] = Object.keys(body);
  if (field !== undefined) throw new InvalidInput(field, `unknown field ${field}`);
}

/** Registers one admin API operation: its schemas (for validation and the OpenAPI document) and its handler. */
export function operation(api: FastifyInstance, spec: RouteSpec): void {
  const status = spec.status ?? 200;
  api.route({
    method: spec.method,
    url: spec.url,
    config: { public: spec.public === true, optionalBody: spec.optionalBody === true },
    // Without a body schema, fastify would hand the handler any body and the handler ignore it
    // (POST …/PRODUCTION/revoke-tokens with {"keyType":"SANDBOX"} revoked PRODUCTION's tokens):
    // such an operation takes none, or {}, and names the first field it does not know.
    ...(spec.body === undefined
      ? { preValidation: async (request: FastifyRequest) => refuseBody(request.body) }
      : spec.optionalBody
        ? {
            preValidation: async (request: FastifyRequest) => {
              request.body ??= {};
            },
          }
        : {}),
    schema: {
      operationId: spec.operationId,
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.public ? { security: [] } : {}),
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { querystring: spec.query } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      response: { [status]: spec.response ?? { type: 'null', description: 'no content' }, ...ERRORS },
    },
    handler: async (request, reply) => {
      const value = await spec.handler({ actor: request.actor!, params: request.params, query: request.query, body: request.body, request });
      reply.code(status).header('cache-control', 'no-store');
      return status === 204 ? reply.send() : value;
    },
  });
}

/**
 * The document as the routes behave: @fastify/swagger marks every request body required (as a
 * body schema makes it for fastify), but an `optionalBody` operation takes none as `{}`.
 */
export function documentOptionalBodies(doc: { paths?: Record<string, Record<string, unknown> | undefined> }, operationIds: ReadonlySet<string>): void {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item ?? {}) as { operationId?: string; requestBody?: { required?: boolean } }[]) {
      if (op?.requestBody && op.operationId !== undefined && operationIds.has(op.operationId)) op.requestBody.required = false;
    }
  }
}

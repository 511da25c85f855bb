import type { FastifyRequest } from 'fastify';

export const FORM = 'application/x-www-form-urlencoded';

/** A parsed application/x-www-form-urlencoded body: a repeated key arrives as an array. */
export type FormBody = Record<string, string | string[] | undefined>;

/** The form body of a request sent as application/x-www-form-urlencoded; undefined for anything else. */
export function formBodyOf(request: FastifyRequest): FormBody | undefined {
  const type = request.headers['content-type'];
  if (!type || !type.toLowerCase().startsWith(FORM) || typeof request.body !== 'object' || request.body === null) return undefined;
  return request.body as FormBody;
}

/** Whether any key or (string) value of a parsed form or query contains U+0000. */
export function hasNul(body: Record<string, unknown> | undefined | null): boolean {
  if (!body) return false;
  for (const [k, v] of Object.entries(body)) {
    if (k.includes('\u0000')) return true;
    const values = Array.isArray(v) ? v : [v];
    if (values.some((x) => typeof x === 'string' && x.includes('\u0000'))) return true;
  }
  return false;
}

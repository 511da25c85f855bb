import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.js';

/** What one multipart form may carry: the identity provider form's PEM files and fields. */
export const MULTIPART_LIMITS = { fileSize: 64 * 1024, files: 10, fieldSize: 64 * 1024, fields: 20, parts: 30 } as const;

/** A multipart form as the pages read it: a field as a string, a file as a Buffer, a repeated name as an array. */
export type MultipartForm = Record<string, string | Buffer | Array<string | Buffer>>;

export const TOO_LARGE_FORM = `The form is too large: at most ${MULTIPART_LIMITS.files} files of ${MULTIPART_LIMITS.fileSize / 1024} KiB and ${MULTIPART_LIMITS.fields} fields of ${MULTIPART_LIMITS.fieldSize / 1024} KiB each.`;
export const UNREADABLE_FORM = 'The form could not be read: its multipart/form-data body is malformed or incomplete. Reload the page and send it again.';

/**
 * multipart/form-data for the routes of one scope only (the pages whose forms upload files;
 * every other page takes application/x-www-form-urlencoded, and a multipart body there is a
 * 415). The whole body is read before the route runs, so a body that is not multipart as its
 * Content-Type says (no boundary, cut short, a malformed part) is a 400 and one over a limit a
 * 413, like any other bad form: never an error of the server's.
 */
export async function multipartForms(scope: FastifyInstance): Promise<void> {
  await scope.register(multipart, { limits: { ...MULTIPART_LIMITS } });
  scope.addHook('preValidation', async (request) => {
    if (request.isMultipart()) request.body = await readMultipart(request);
  });
}

async function readMultipart(request: FastifyRequest): Promise<MultipartForm> {
  const form: MultipartForm = Object.create(null) as MultipartForm;
  try {
    for await (const part of request.parts()) {
      let value: string | Buffer;
      if (part.type === 'file') value = await part.toBuffer();
      else if (part.valueTruncated || part.fieldnameTruncated) throw new GatehouseError('too_large', TOO_LARGE_FORM, { detail: 'multipart field over fieldSize' });
      else if (typeof part.value === 'string') value = part.value;
      else continue; // a part declared application/json: no form of ours sends one
      const before = form[part.fieldname];
      form[part.fieldname] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
    }
  } catch (err) {
    throw unreadable(err);
  }
  return form;
}

/** A failure to read the body as the refusal the page shows (busboy's own errors carry no status). */
function unreadable(err: unknown): GatehouseError {
  if (err instanceof GatehouseError) return err;
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown } | null;
  const detail = `${typeof e?.code === 'string' ? `${e.code}: ` : ''}${typeof e?.message === 'string' ? e.message : String(err)}`;
  if (e?.statusCode === 413) return new GatehouseError('too_large', TOO_LARGE_FORM, { detail, cause: err });
  return new GatehouseError('invalid', UNREADABLE_FORM, { detail, cause: err });
}

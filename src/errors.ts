/**
 * One error shape for the whole product. Every refusal or failure is a GatehouseError with
 *
 * - `kind`: what went wrong, independent of any protocol (a REST route maps it to a status,
 *   the CLI to an exit code, the OAuth endpoints to an RFC 6749 error code);
 * - `status`: the HTTP status it answers with;
 * - `message`: the public message, safe to show to whoever sent the request;
 * - `detail`: a private explanation for the log, never sent to a client;
 * - `cause`: the underlying error, logged with the detail, never sent.
 *
 * Each interface renders it in its own format (RFC 6749 JSON, WSO2 fault JSON, RFC 9457
 * problem+json, an HTML page with the field marked, one CLI line).
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export interface GatehouseErrorOptions {
  status?: number;
  /** Private: for the log only. */
  detail?: string;
  cause?: unknown;
  /** The input field the error is about (validation errors). */
  field?: string;
}

export class GatehouseError extends Error {
  override name = 'GatehouseError';
  readonly status: number;
  readonly detail: string | undefined;
  readonly field: string | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    opts: GatehouseErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = opts.status ?? STATUS[kind];
    this.detail = opts.detail;
    this.field = opts.field;
  }
}

/** Domain errors of the management service and the stores' refusals. */
export class InvalidInput extends GatehouseError {
  override name = 'InvalidInput';
  constructor(field: string | undefined, message: string) {
    super('invalid', message, field === undefined ? {} : { field });
  }
}

/** A domain error class of one kind: `new NotFound('no API Weather:v1')`, optionally about one input field. */
function ofKind(kind: ErrorKind, name: string) {
  return class extends GatehouseError {
    override name = name;
    constructor(message: string, field?: string) {
      super(kind, message, field === undefined ? {} : { field });
    }
  };
}

export const NotFound = ofKind('not_found', 'NotFound');
export type NotFound = InstanceType<typeof NotFound>;
export const Conflict = ofKind('conflict', 'Conflict');
export type Conflict = InstanceType<typeof Conflict>;
export const Forbidden = ofKind('forbidden', 'Forbidden');
export type Forbidden = InstanceType<typeof Forbidden>;

/** One source sent too many of something in a window (sign-ups from an address): 429 with Retry-After. */
export class TooManyRequests extends GatehouseError {
  override name = 'TooManyRequests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rate_limited', message);
  }
}

export class Unavailable extends GatehouseError {
  override name = 'Unavailable';
  constructor(message: string, opts: GatehouseErrorOptions & { retryAfterSeconds?: number; reported?: boolean } = {}) {
    super('unavailable', message, opts);
    this.retryAfterSeconds = opts.retryAfterSeconds ?? 1;
    this.reported = opts.reported ?? false;
  }
  readonly retryAfterSeconds: number;
  /** Its source logs it once (per outage): the handler that answers it does not log it again. */
  readonly reported: boolean;
}

/** Whether the handler answering an error should log it: a 5xx, unless its source already reports it. */
export function worthLogging(e: GatehouseError): boolean {
  if (e.status < 500) return false;
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++) {
    if (x instanceof Unavailable && x.reported) return false;
  }
  return true;
}

/** A 5xx we did not expect: the public text says nothing; the cause goes to the log. */
export function internalError(cause: unknown, detail?: string): GatehouseError {
  return new GatehouseError('internal', 'The server could not complete the request.', {
    cause,
    detail: detail ?? (cause instanceof Error ? cause.message : String(cause)),
  });
}

export interface DescribedError {
  type: string;
  message: string;
  kind?: ErrorKind;
  status?: number;
  code?: string;
  detail?: string;
  stack?: string;
  cause?: DescribedError;
}

/**
 * An error as a log field: type, message, code, private detail, stack and the chain of causes
 * (pino's default serializer loses the cause and prints `"stack":""` for non-Errors).
 */
export function describeError(err: unknown, depth = 0): DescribedError {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  const out: DescribedError = { type: err.name, message: err.message };
  if (err instanceof GatehouseError) {
    out.kind = err.kind;
    out.status = err.status;
    if (err.detail !== undefined) out.detail = err.detail;
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < 5) out.cause = describeError(err.cause, depth + 1);
  return out;
}

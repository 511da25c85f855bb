import { pino, type Logger } from 'pino';
import { describeError, type DescribedError } from './errors.js';

/**
 * An error as a warn line's field: type, message, code and the chain of causes, without stack
 * traces (an expected failure: a backend refusing, a store down). Errors logged at `error` keep
 * theirs (the `err` serializer below).
 */
export function errorField(err: unknown): DescribedError {
  const strip = (d: DescribedError): DescribedError => {
    const { stack: _stack, cause, ...rest } = d;
    return cause === undefined ? rest : { ...rest, cause: strip(cause) };
  };
  return strip(describeError(err));
}

/**
 * `err` fields: an Error is described with its cause chain (pino's default loses the cause);
 * anything else is written as it is (pino's default turned `{ message }` into an object with
 * `"stack":""`).
 */
const serializers = { err: (err: unknown) => (err instanceof Error ? describeError(err) : err) };

/**
 * Structured JSON logs. Credentials never reach a log line: the code does not log them, and
 * these paths are redacted as a second line of defence should an object carrying one be logged.
 *
 * Lines are written synchronously. pino's default asynchronous stdout is flushed at exit by a
 * loop that retries a failed write forever, so with stdout on a broken pipe (`gatehouse start |
 * head -3`, a crashed log forwarder) the process never exited. A synchronous destination meets
 * EPIPE on the write itself, and pino then drops further lines instead: the node keeps serving
 * and stops within its drain bound. (Only a handful of lines are written above debug level.)
 */
export function createLogger(level: string, toStderr = false, destination?: { write(line: string): void }): Logger {
  const options = {
    level,
    base: { service: 'gatehouse' },
    serializers,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        '*.password',
        '*.client_secret',
        '*.consumerSecret',
        '*.token',
        '*.access_token',
        '*.refresh_token',
        '*.assertion',
      ],
      censor: '[redacted]',
    },
  };
  // (A destination given: the tests, which read the lines a real server writes.)
  if (destination !== undefined) return pino(options, destination);
  const fd = pino.destination({ fd: toStderr ? 2 : 1, sync: true });
  // EPIPE is handled by pino (logging stops); anything else (EAGAIN on a non-blocking pipe that
  // is full) must cost a line, not the process: without a listener the error event would throw.
  fd.on('error', () => {});
  return pino(options, fd);
}

export type { Logger };

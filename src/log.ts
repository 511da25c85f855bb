import { pino, type Logger } from 'pino';

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
export function createLogger(level: string, toStderr = false): Logger {
  const options = {
    level,
    base: { service: 'gatehouse' },
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
  const destination = pino.destination({ fd: toStderr ? 2 : 1, sync: true });
  // EPIPE is handled by pino (logging stops); anything else (EAGAIN on a non-blocking pipe that
  // is full) must cost a line, not the process: without a listener the error event would throw.
  destination.on('error', () => {});
  return pino(options, destination);
}

export type { Logger };

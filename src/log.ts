import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs. Credentials never reach a log line: the code does not log them, and
 * these paths are redacted as a second line of defence should an object carrying one be logged.
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
  return toStderr ? pino(options, pino.destination(2)) : pino(options);
}

export type { Logger };

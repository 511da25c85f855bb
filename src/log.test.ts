import { describe, expect, it } from 'vitest';
import { createLogger, errorField } from './log.js';

/** Issue 14 item 1: errors carry their cause, and no `"stack":""` objects. */
describe('log lines for errors', () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    return { lines, logger: createLogger('info', false, { write: (l: string) => void lines.push(JSON.parse(l)) }) };
  };

  it('an Error under err has its type, message, code and the chain of causes', () => {
    const { lines, logger } = capture();
    const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    logger.error({ err: new Error('token lookup failed', { cause: root }) }, 'failed');
    const err = lines[0]!.err as Record<string, any>;
    expect(err).toMatchObject({ type: 'Error', message: 'token lookup failed', cause: { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' } });
    expect(err.stack).toMatch(/^Error: token lookup failed\n/);
  });

  it('a plain { message } object stays as it is: no "stack":"" is made up', () => {
    const { lines, logger } = capture();
    logger.warn({ err: { message: 'redis down' } }, 'warned');
    expect(lines[0]!.err).toEqual({ message: 'redis down' });
  });

  it('errorField (warn lines) keeps the cause chain without stacks', () => {
    const e = new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ETIMEDOUT' }) });
    expect(errorField(e)).toEqual({ type: 'Error', message: 'outer', cause: { type: 'Error', message: 'inner', code: 'ETIMEDOUT' } });
    expect(errorField('just text')).toEqual({ type: 'string', message: 'just text' });
  });
});

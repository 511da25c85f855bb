import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';
import { fingerprint, fingerprintKey, SecurityLog } from './security-events.js';

describe('security event lines', () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    let raw = '';
    const logger = createLogger('info', false, { write: (l: string) => { raw += l; lines.push(JSON.parse(l)); } });
    return { lines, raw: () => raw, log: new SecurityLog(logger) };
  };
  const secret = 'Zx9sQ2vL7pK4mN8rT1wY6uB3eH5jC0aF';

  it('a presented client id that matched nothing is logged as a fingerprint only, client_id null', () => {
    const { lines, raw, log } = capture();
    log.useFingerprintKey(fingerprintKey(Buffer.alloc(32, 7)));
    log.emit('client_authentication_failed', { presented: { client_id: secret }, remote: '127.0.0.1', reason: 'unknown_client' });
    expect(lines[0]).toMatchObject({ event: 'client_authentication_failed', client_id: null, user: null, reason: 'unknown_client', client_id_fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(raw()).not.toContain(secret);
    expect(raw()).not.toContain(secret.slice(0, 8));
  });

  it('a presented username that is no user is logged as user_fingerprint, user null', () => {
    const { lines, raw, log } = capture();
    log.emit('lockout_started', { client_id: 'ck', presented: { user: 'correct horse battery' }, reason: 'too_many_failures' });
    expect(lines[0]).toMatchObject({ client_id: 'ck', user: null, user_fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(lines[0]).not.toHaveProperty('client_id_fingerprint');
    expect(raw()).not.toContain('correct horse');
  });

  it('known identifiers are logged as they are, with no fingerprint field', () => {
    const { lines, log } = capture();
    log.emit('client_authentication_failed', { client_id: 'ck', presented: { client_id: undefined }, reason: 'wrong_secret' });
    expect(lines[0]).toMatchObject({ client_id: 'ck', user: null });
    expect(Object.keys(lines[0]!)).not.toContain('client_id_fingerprint');
  });

  it('fingerprints: the same value and key agree (repeated attempts correlate, across nodes sharing the keys secret); another key or value does not', () => {
    const k = fingerprintKey(Buffer.alloc(32, 1));
    expect(fingerprint(k, secret)).toBe(fingerprint(fingerprintKey(Buffer.alloc(32, 1)), secret));
    expect(fingerprint(k, secret)).not.toBe(fingerprint(fingerprintKey(Buffer.alloc(32, 2)), secret));
    expect(fingerprint(k, secret)).not.toBe(fingerprint(k, `${secret}x`));
    const { lines, log } = capture();
    log.useFingerprintKey(k);
    log.emit('client_authentication_failed', { presented: { client_id: secret }, reason: 'unknown_client' });
    expect(lines[0]!.client_id_fingerprint).toBe(fingerprint(k, secret));
  });
});

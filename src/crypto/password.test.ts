import { afterEach, describe, expect, it } from 'vitest';
import { configurePasswordHashing, hashPassword, PasswordsBusy, passwordQueueDepth, verifyPassword } from './password.js';

describe('the password hashing queue', () => {
  afterEach(() => configurePasswordHashing({ concurrency: 0, queueSize: 64 }));

  it('runs at most `concurrency` at once, queues up to `queueSize`, and refuses the rest with a 503 at once', async () => {
    const stored = await hashPassword('queue-test-password');
    configurePasswordHashing({ concurrency: 1, queueSize: 2 });
    const first = verifyPassword(stored, 'queue-test-password');
    const queued = [verifyPassword(stored, 'wrong-1'), verifyPassword(stored, 'wrong-2')];
    expect(passwordQueueDepth()).toBe(2);
    const refused = verifyPassword(stored, 'wrong-3');
    await expect(refused).rejects.toBeInstanceOf(PasswordsBusy);
    await expect(refused).rejects.toMatchObject({ status: 503, retryAfterSeconds: 1 });
    expect(await first).toBe(true);
    expect(await Promise.all(queued)).toEqual([false, false]);
    expect(passwordQueueDepth()).toBe(0);
    // The slots came back: the next verification runs.
    expect(await verifyPassword(stored, 'queue-test-password')).toBe(true);
  });
});

import { burnPasswordCheck, verifyPassword } from '../crypto/password.js';
import type { LockoutStore } from '../store/lockout.js';
import type { User, UserStore } from '../store/users.js';

/**
 * The outcome of a sign-in. Every refusal is answered the same way to the caller's client; the
 * reason is for the log and the metrics only: a wrong password or unknown user, a name locked
 * out by too many failures, or an account an admin has locked.
 */
export type PasswordCheck = { ok: true; user: User } | { ok: false; reason: 'invalid' | 'locked_out' | 'account_locked' };

/** Usernames are at most this long (the users table's limit): a longer one cannot exist. */
export const MAX_USERNAME_LENGTH = 255;

/**
 * Checks a username and password with the brute-force lock applied: after too many failures
 * for one name in the window, every attempt fails for the lock period. The caller answers
 * every failure the same way, so neither the lock nor the account's existence is revealed,
 * and every answer costs one argon2 verification (also when locked or unknown), so neither
 * shows in the response time. Shared by the password grant and the browser login form.
 *
 * Parallel guesses: a verification of a name starts only while the failures on record plus
 * the verifications of that name already running on this node stay below `maxFailures`, so a
 * burst of guesses gets no more tries than guesses sent one by one (per node: N nodes sharing
 * the database allow at most N times as many). Concurrent sign-ins of one user wait their
 * turn instead of being refused.
 */
export class PasswordChecker {
  private readonly names = new Map<string, NameState>();

  constructor(
    private readonly users: Pick<UserStore, 'findByUsername'>,
    private readonly lockout: Pick<LockoutStore, 'status' | 'recordFailure' | 'clear'>,
    private readonly maxFailures: number,
  ) {}

  async check(username: string, password: string, now: number): Promise<PasswordCheck> {
    // No such user can exist (and the counter could not store the name): refused like a wrong password.
    if (username.length > MAX_USERNAME_LENGTH) return this.refuse(password, 'invalid');
    const state = this.state(username);
    state.users++;
    try {
      const admitted = await this.admit(username, state, now);
      if (!admitted) return await this.refuse(password, 'locked_out');
      try {
        const user = await this.users.findByUsername(username);
        const ok = user ? await verifyPassword(user.passwordHash, password) : await burnPasswordCheck(password);
        if (!ok || !user) {
          await this.lockout.recordFailure(username, now);
          return { ok: false, reason: 'invalid' };
        }
        if (admitted.hasFailures) await this.lockout.clear(username);
        // The right password of an account an admin locked: refused, but not a guess to count.
        if (user.lockedAt !== null) return { ok: false, reason: 'account_locked' };
        return { ok: true, user };
      } finally {
        state.running--;
        state.epoch++;
        state.waiting.shift()?.();
      }
    } finally {
      if (--state.users === 0) this.names.delete(username);
    }
  }

  /**
   * Waits until a verification may start: not locked, and failures + running < maxFailures.
   * The decision uses a status read taken after the last verification of this name ended
   * (the epoch), so a failure recorded meanwhile is never missed. Undefined: locked.
   */
  private async admit(username: string, state: NameState, now: number): Promise<{ hasFailures: boolean } | undefined> {
    for (;;) {
      const epoch = state.epoch;
      const status = await this.lockout.status(username, now);
      if (status.locked || status.failures >= this.maxFailures) {
        state.waiting.shift()?.(); // refused: let the next waiter see the lock too
        return undefined;
      }
      if (epoch !== state.epoch) continue;
      if (status.failures + state.running < this.maxFailures) {
        state.running++;
        return { hasFailures: status.hasFailures };
      }
      await new Promise<void>((resolve) => state.waiting.push(resolve));
    }
  }

  private state(username: string): NameState {
    let s = this.names.get(username);
    if (!s) {
      s = { running: 0, epoch: 0, users: 0, waiting: [] };
      this.names.set(username, s);
    }
    return s;
  }

  private async refuse(password: string, reason: 'invalid' | 'locked_out'): Promise<PasswordCheck> {
    await burnPasswordCheck(password);
    return { ok: false, reason };
  }
}

/** Per name, on this node: verifications running, a counter bumped when one ends, callers, waiters. */
interface NameState {
  running: number;
  epoch: number;
  users: number;
  waiting: Array<() => void>;
}

import { burnPasswordCheck, verifyPassword } from '../crypto/password.js';
import type { LockoutStore } from '../store/lockout.js';
import type { User, UserStore } from '../store/users.js';

export type PasswordCheck = { ok: true; user: User } | { ok: false };

/**
 * Checks a username and password with the brute-force lock applied: after too many failures
 * for one name in the window, every attempt fails for the lock period. The caller answers
 * every failure the same way, so neither the lock nor the account's existence is revealed.
 * Shared by the password grant and the browser login form.
 */
export class PasswordChecker {
  constructor(
    private readonly users: Pick<UserStore, 'findByUsername'>,
    private readonly lockout: Pick<LockoutStore, 'status' | 'recordFailure' | 'recordSuccess'>,
  ) {}

  async check(username: string, password: string, now: number): Promise<PasswordCheck> {
    const status = await this.lockout.status(username, now);
    if (status.locked) return { ok: false };
    const user = await this.users.findByUsername(username);
    const ok = user ? await verifyPassword(user.passwordHash, password) : await burnPasswordCheck(password);
    if (!ok || !user) {
      await this.lockout.recordFailure(username, now);
      return { ok: false };
    }
    if (status.hasFailures) await this.lockout.recordSuccess(username);
    return { ok: true, user };
  }
}

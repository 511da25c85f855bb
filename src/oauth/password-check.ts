import { burnPasswordCheck, verifyPassword } from '../crypto/password.js';
import type { LockoutStore } from '../store/lockout.js';
import type { User, UserStore } from '../store/users.js';

export type PasswordCheck = { ok: true; user: User } | { ok: false };

/** Usernames are at most this long (the users table's limit): a longer one cannot exist. */
export const MAX_USERNAME_LENGTH = 255;

/**
 * Checks a username and password with the brute-force lock applied: after too many failures
 * for one name in the window, every attempt fails for the lock period. The caller answers
 * every failure the same way, so neither the lock nor the account's existence is revealed,
 * and every answer costs one argon2 verification (also when locked or unknown), so neither
 * shows in the response time. Shared by the password grant and the browser login form.
 *
 * The attempt is counted before the password is verified (an atomic reservation), so
 * guesses sent in parallel are limited exactly like guesses sent one after another; a success
 * gives back its own reservation only.
 */
export class PasswordChecker {
  constructor(
    private readonly users: Pick<UserStore, 'findByUsername'>,
    private readonly lockout: Pick<LockoutStore, 'reserve' | 'release'>,
  ) {}

  async check(username: string, password: string, now: number): Promise<PasswordCheck> {
    // No such user can exist (and the counter could not store the name): refused like a wrong password.
    if (username.length > MAX_USERNAME_LENGTH) return this.refuse(password);
    const attempt = await this.lockout.reserve(username, now);
    if (!attempt.allowed) return this.refuse(password);
    const user = await this.users.findByUsername(username);
    const ok = user ? await verifyPassword(user.passwordHash, password) : await burnPasswordCheck(password);
    // A failure stays counted: its reservation was the count.
    if (!ok || !user) return { ok: false };
    await this.lockout.release(username, attempt.window);
    return { ok: true, user };
  }

  private async refuse(password: string): Promise<PasswordCheck> {
    await burnPasswordCheck(password);
    return { ok: false };
  }
}

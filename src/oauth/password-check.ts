import { createHash } from 'node:crypto';
import { lruCache } from '../memory.js';
import { burnPasswordCheck, verifyPassword } from '../crypto/password.js';
import type { LockoutStore } from '../store/lockout.js';
import { NO_SECURITY_EVENTS, type SecurityEventSink } from '../security-events.js';
import type { User, UserStore } from '../store/users.js';
import { AttemptBudget, addressBlock, type AttemptPolicy, type SignInOrigin } from './attempt-budget.js';

export type { SignInOrigin } from './attempt-budget.js';

/**
 * The outcome of a sign-in. Every refusal is answered the same way to the caller's client; the
 * reason is for the log and the metrics only: a wrong password or unknown user, a name locked
 * out by too many failures, an address or session that spent its budget of failures, or an
 * account an admin has locked.
 */
export type PasswordCheck = { ok: true; user: User } | { ok: false; reason: RefusalReason };
export type RefusalReason = 'invalid' | 'locked_out' | 'throttled' | 'account_locked';

export interface PasswordPolicy {
  /** lockSeconds: when given, the node that started a lock logs its end when it runs out. */
  lockout: { maxFailures: number; knownOriginDays: number; lockSeconds?: number };
  attempts: AttemptPolicy;
}

/** Usernames are at most this long (the users table's limit): a longer one cannot exist. */
export const MAX_USERNAME_LENGTH = 255;
/** Text no username can hold: a NUL, a lone surrogate. */
const UNSTORABLE = /\u0000|\p{Cs}/u;

/**
 * Checks a username and password under the brute-force rules (README "Security"):
 *
 * 1. **Budget per source.** Each client address (an IPv6 /64) and each login session may fail
 *    `attempts.perAddress` / `attempts.perSession` times per window; past that, its attempts
 *    are refused at once, before any hashing or database read. One source can neither burn
 *    the node's CPU nor lock more than a few names.
 * 2. **Lock per name.** After `lockout.maxFailures` failures for one name in the window, the
 *    name is locked for the lock period, on every node (the counter is in the database).
 * 3. **Known origins pass the lock.** An address or session the user has signed in from
 *    within `lockout.knownOriginDays` is still let through a lock (its guesses are bounded by
 *    rule 1), so someone else's guesses cannot keep the owner out.
 *
 * Every refusal is answered the same way, and every verified answer costs one argon2
 * verification (also when locked or unknown), so neither the lock nor the account's existence
 * shows. Shared by the password grant, the browser login form and the management sign-in.
 *
 * Parallel guesses: a verification of a name starts only while the failures on record plus
 * the verifications of that name already running on this node stay below `maxFailures`, so a
 * burst of guesses gets no more tries than guesses sent one by one (per node: N nodes sharing
 * the database allow at most N times as many). Concurrent sign-ins of one user wait their
 * turn instead of being refused.
 */
export class PasswordChecker {
  private readonly names = new Map<string, NameState>();
  private readonly budget: AttemptBudget;
  /** Origins recorded lately (user id + origin hash → when), so a sign-in writes at most once a day per origin. */
  private readonly remembered = lruCache<string, number>({ maxEntries: 50_000 });
  private readonly maxFailures: number;
  private readonly knownOriginSeconds: number;
  private readonly lockSeconds: number | undefined;
  /** Locks this node started, by name: the timer that logs their end (bounded; a restart forgets them). */
  private readonly lockTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly users: Pick<UserStore, 'findByUsername'>,
    private readonly lockout: Pick<LockoutStore, 'status' | 'countFailure' | 'clear' | 'knownOrigin' | 'rememberOrigin'>,
    policy: PasswordPolicy,
    private readonly events: SecurityEventSink = NO_SECURITY_EVENTS,
  ) {
    this.maxFailures = policy.lockout.maxFailures;
    this.knownOriginSeconds = policy.lockout.knownOriginDays * 86400;
    this.lockSeconds = policy.lockout.lockSeconds;
    this.budget = new AttemptBudget(policy.attempts);
  }

  async check(username: string, password: string, now: number, from: SignInOrigin = {}): Promise<PasswordCheck> {
    if (!this.budget.allows(from, now)) return { ok: false, reason: 'throttled' };
    const result = await this.verify(username, password, now, from);
    if (!result.ok && result.reason !== 'account_locked') this.budget.spend(from, now);
    if (result.ok) await this.remember(result.user.id, from, now);
    return result;
  }

  private async verify(username: string, password: string, now: number, from: SignInOrigin): Promise<PasswordCheck> {
    // No such user can exist (too long, or text no database column holds: PostgreSQL refuses a
    // NUL or a lone surrogate with an error): refused like a wrong password, nothing counted or looked up.
    if (username.length > MAX_USERNAME_LENGTH || UNSTORABLE.test(username)) return this.refuse(password, 'invalid');
    const state = this.state(username);
    state.users++;
    try {
      const admitted = await this.admit(username, state, now, from);
      if (!admitted) return await this.refuseLocked(username, password, from);
      try {
        const user = admitted.user ?? (await this.users.findByUsername(username));
        const ok = user ? await verifyPassword(user.passwordHash, password) : await burnPasswordCheck(password);
        if (!ok || !user) {
          const lock = await this.lockout.countFailure(username, now);
          if (lock.started) this.lockStarted(username, user !== undefined, from, lock.lockedUntil);
          return { ok: false, reason: 'invalid' };
        }
        if (admitted.hasFailures) await this.lockout.clear(username);
        if (admitted.user !== undefined) this.lockEnded(username, 'signed_in', true);
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

  /** Whether the user has signed in from this address or session lately (a locked name still lets it in). */
  private async fromKnownOrigin(username: string, from: SignInOrigin, now: number): Promise<User | undefined> {
    if (this.knownOriginSeconds === 0 || (from.address === undefined && from.session === undefined)) return undefined;
    const user = await this.users.findByUsername(username);
    if (!user) return undefined;
    const origins = originsOf(user.id, from).map(([origin]) => origin);
    return (await this.lockout.knownOrigin(user.id, origins, now - this.knownOriginSeconds)) ? user : undefined;
  }

  private async remember(userId: string, from: SignInOrigin, now: number): Promise<void> {
    if (this.knownOriginSeconds === 0) return;
    for (const [origin] of originsOf(userId, from)) {
      const key = `${userId} ${origin}`;
      const last = this.remembered.get(key);
      if (last !== undefined && now - last < 86400) continue;
      await this.lockout.rememberOrigin(userId, origin, now);
      this.remembered.set(key, now);
    }
  }

  /**
   * Waits until a verification may start: not locked (or from a known origin), and failures +
   * running < maxFailures. The decision uses a status read taken after the last verification
   * of this name ended (the epoch), so a failure recorded meanwhile is never missed.
   * Undefined: locked. A known origin passing a lock brings the user it read.
   */
  private async admit(username: string, state: NameState, now: number, from: SignInOrigin): Promise<{ hasFailures: boolean; user?: User } | undefined> {
    for (;;) {
      const epoch = state.epoch;
      const status = await this.lockout.status(username, now);
      if (status.locked || status.failures >= this.maxFailures) {
        const user = await this.fromKnownOrigin(username, from, now);
        if (user) {
          state.running++;
          return { hasFailures: true, user };
        }
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

  /**
   * A locked name: one verification as always (against the user's own hash, so a correct
   * password shows in the log: someone else's guesses are keeping the owner out), refused.
   */
  private async refuseLocked(username: string, password: string, from: SignInOrigin): Promise<PasswordCheck> {
    const user = await this.users.findByUsername(username);
    if (!user) return this.refuse(password, 'locked_out');
    if (await verifyPassword(user.passwordHash, password)) {
      this.events.emit('lockout_refused_password', { client_id: from.client, user: username, remote: from.address, reason: 'locked_out' });
    }
    return { ok: false, reason: 'locked_out' };
  }

  /**
   * A lock started on a name. A name no user has is logged as a fingerprint only: it is what
   * someone typed, and the commonest unknown name is a password typed into the username field.
   */
  private lockStarted(username: string, known: boolean, from: SignInOrigin, lockedUntil: number | null): void {
    this.events.emit('lockout_started', {
      client_id: from.client,
      ...nameFields(username, known),
      remote: from.address,
      reason: 'too_many_failures',
      extra: { failures: this.maxFailures, locked_until: lockedUntil },
    });
    if (this.lockSeconds === undefined || this.lockTimers.size >= 10_000) return;
    clearTimeout(this.lockTimers.get(username));
    const timer = setTimeout(() => this.lockEnded(username, 'expired', known), this.lockSeconds * 1000);
    timer.unref();
    this.lockTimers.set(username, timer);
  }

  /** A lock this node started ran out, or a correct password from a known origin lifted one. */
  private lockEnded(username: string, reason: 'expired' | 'signed_in', known: boolean): void {
    clearTimeout(this.lockTimers.get(username));
    this.lockTimers.delete(username);
    this.events.emit('lockout_ended', { ...nameFields(username, known), reason });
  }

  /** Stops the timers of the locks this node started (their end is not logged). */
  close(): void {
    for (const t of this.lockTimers.values()) clearTimeout(t);
    this.lockTimers.clear();
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

/** The origin hashes of a sign-in: its address block and its session, each hashed with the user id. */
function originsOf(userId: string, from: SignInOrigin): Array<[string]> {
  const raw: string[] = [];
  if (from.address !== undefined) raw.push(`address ${addressBlock(from.address)}`);
  if (from.session !== undefined) raw.push(`session ${from.session}`);
  return raw.map((r) => [createHash('sha256').update(`${userId}\n${r}`).digest('base64url')]);
}

/** A sign-in name in a security event: as it is for a user's, a fingerprint only for a name no user has. */
function nameFields(username: string, known: boolean): { user?: string; presented?: { user: string } } {
  return known ? { user: username } : { presented: { user: username } };
}

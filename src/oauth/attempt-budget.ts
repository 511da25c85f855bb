import type { LRUCache } from 'lru-cache';
import { lruCache } from '../memory.js';

export interface AttemptPolicy {
  /** Failures per client address in a window (0: no limit). */
  perAddress: number;
  /** Failures per login session in a window (0: no limit). */
  perSession: number;
  windowSeconds: number;
}

/** Where a sign-in comes from: the client's address and, for the browser form, its login session. */
export interface SignInOrigin {
  address?: string;
  session?: string;
  /** The client the sign-in is for (the password grant's or /authorize's consumer key), for the log only. */
  client?: string;
}

interface Window {
  start: number;
  failures: number;
}

/**
 * Attempts per client address and per login session in fixed windows, per node and in memory
 * (failed sign-ins in PasswordChecker; new login sessions at /authorize). Once a
 * source has spent its budget in the current fixed window, its attempts are refused before any
 * password is hashed or the database read, so one source can neither burn the node's CPU nor
 * lock many names. The map is bounded (least recently used sources go first), so a flood of
 * fresh addresses costs memory only up to `maxSources`.
 */
export class AttemptBudget {
  private readonly windows: LRUCache<string, Window>;

  constructor(
    private readonly policy: AttemptPolicy,
    maxSources = 100_000,
  ) {
    this.windows = lruCache({ maxEntries: maxSources });
  }

  get windowSeconds(): number {
    return this.policy.windowSeconds;
  }

  /** Whether an attempt from this origin may go ahead now. */
  allows(from: SignInOrigin, now: number): boolean {
    return this.keys(from).every(([key, limit]) => {
      const w = this.windows.get(key);
      return !w || w.start + this.policy.windowSeconds <= now || w.failures < limit;
    });
  }

  /** Counts one attempt (a failed sign-in, a new session) against the origin's address and session. */
  spend(from: SignInOrigin, now: number): void {
    for (const [key] of this.keys(from)) {
      const w = this.windows.get(key);
      if (!w || w.start + this.policy.windowSeconds <= now) this.windows.set(key, { start: now, failures: 1 });
      else w.failures++;
    }
  }

  private keys(from: SignInOrigin): Array<[string, number]> {
    const keys: Array<[string, number]> = [];
    if (from.address !== undefined && this.policy.perAddress > 0) keys.push([`a ${addressBlock(from.address)}`, this.policy.perAddress]);
    if (from.session !== undefined && this.policy.perSession > 0) keys.push([`s ${from.session}`, this.policy.perSession]);
    return keys;
  }
}

/**
 * The unit one client controls: an IPv4 address, or the /64 of an IPv6 address (one
 * subscriber usually has a whole /64, so counting single IPv6 addresses would not bound it).
 */
export function addressBlock(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

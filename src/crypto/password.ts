import { hash, verify } from '@node-rs/argon2';
import { availableParallelism } from 'node:os';
import { Unavailable } from '../errors.js';

/**
 * Human passwords: argon2id (OWASP parameters: 19 MiB, 2 passes). @node-rs/argon2 runs
 * on libuv's thread pool, so hashing never blocks the event loop.
 *
 * Every hash and verification goes through one bounded queue: at most `concurrency` at once
 * (libuv's pool has 4 threads, shared with DNS lookups and file I/O), at most `queueSize` waiting. A burst beyond that is refused at
 * once with a 503 (`PasswordsBusy`) instead of piling up work no one waits for, so a flood of
 * sign-ins can only delay the sign-ins, never the rest of the node.
 */
const OPTIONS = { algorithm: 2 /* Algorithm.Argon2id (a const enum) */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export class PasswordsBusy extends Unavailable {
  override name = 'PasswordsBusy';
  constructor() {
    super('The server is busy checking passwords; retry in a moment.', { retryAfterSeconds: 1 });
  }
}

/**
 * One more hash in flight than there are cores, at most 3 (one of libuv's 4 threads stays free for
 * DNS and files): when a hash ends, the next is already running on another thread instead of
 * waiting for the event loop to start it, so the cores stay busy (2 at once on 2 cores reached
 * 0.75x the machine's argon2 throughput; bench/suite).
 */
const autoConcurrency = (): number => Math.max(1, Math.min(3, availableParallelism() + 1));
const limits = { concurrency: autoConcurrency(), queueSize: 64 };
let running = 0;
const waiting: Array<() => void> = [];

/** Sets the queue's bounds (`security.passwordHashing`); the server calls it once at start. */
export function configurePasswordHashing(opts: { concurrency: number; queueSize: number }): void {
  // 0: automatic (see autoConcurrency).
  limits.concurrency = opts.concurrency || autoConcurrency();
  limits.queueSize = opts.queueSize;
}

/** Verifications waiting for a thread now (the `gatehouse_password_hash_queue` gauge). */
export const passwordQueueDepth = (): number => waiting.length;

async function queued<T>(work: () => Promise<T>): Promise<T> {
  if (running < limits.concurrency) running++;
  else if (waiting.length >= limits.queueSize) throw new PasswordsBusy();
  else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export function hashPassword(password: string): Promise<string> {
  return queued(() => hash(password, OPTIONS));
}

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  return queued(async () => {
    try {
      return await verify(storedHash, password);
    } catch {
      return false;
    }
  });
}

let dummy: Promise<string> | undefined;
/**
 * Spends the same time as a real verification when the user does not exist, so response
 * time does not reveal which usernames are registered.
 */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummy ??= hash('gatehouse-dummy-password', OPTIONS);
  await verifyPassword(await dummy, password);
  return false;
}

import { hash, verify } from '@node-rs/argon2';

/**
 * Human passwords: argon2id (OWASP parameters: 19 MiB, 2 passes). @node-rs/argon2 runs
 * on libuv's thread pool, so hashing never blocks the event loop.
 */
const OPTIONS = { algorithm: 2 /* Algorithm.Argon2id (a const enum) */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;
/**
 * Spends the same time as a real verification when the user does not exist, so response
 * time does not reveal which usernames are registered.
 */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummy ??= hashPassword('gatehouse-dummy-password');
  await verifyPassword(await dummy, password);
  return false;
}

import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { keysSecret } from '../cluster/signing-keys.js';
import { createManagement, cliActor, type Actor, type Management } from '../manage/index.js';
import { TokenEvents } from '../oauth/events.js';
import { createOAuthCore } from '../oauth/core.js';
import { openStore } from '../store/index.js';
import { configFrom } from './context.js';

/**
 * Runs one command against the management service on the configured data, as an admin (the
 * CLI acts on local data: whoever can run it can read the database anyway), and closes
 * everything afterwards. A running server learns of the change from the change feed.
 */
export async function withManagement<T>(cmd: Command, body: (m: Management, actor: Actor, config: Config) => Promise<T>): Promise<T> {
  const config = configFrom(cmd);
  const store = await openStore(config);
  const oauth = createOAuthCore(config, store, new TokenEvents());
  try {
    let kek: Buffer | undefined;
    const m = createManagement({ store, oauth, config, sink: () => {}, kek: () => (kek ??= keysSecret(config).kek) });
    return await body(m, cliActor(osUser()), config);
  } finally {
    await store.close();
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** `--limit N --cursor C` of a list command. */
export function pageOptions(opts: { limit?: string; cursor?: string }): { limit?: number; cursor?: string } {
  return { ...(opts.limit !== undefined ? { limit: Number(opts.limit) } : {}), ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}) };
}

/** The human form of a page's end: how to ask for the next one. */
export const nextHint = (next: string | null): string => (next === null ? '' : `\n(more: --cursor ${next})`);

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

import type { KeyType } from '../types.js';
import { invalidScope } from './errors.js';

/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
export const DEFAULT_SCOPE = 'default';
const KEY_TYPE_SCOPES = new Set(['PRODUCTION', 'SANDBOX']);

/** A requested scope is at most this long and has at most this many values (it is stored with every token). */
export const MAX_SCOPE_LENGTH = 1024;
export const MAX_SCOPE_VALUES = 20;

export function parseScope(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  if (raw.length > MAX_SCOPE_LENGTH) throw invalidScope(`The scope is longer than ${MAX_SCOPE_LENGTH} characters.`);
  const tokens = raw.split(' ').filter((t) => t !== '');
  if (tokens.length > MAX_SCOPE_VALUES) throw invalidScope(`The scope has more than ${MAX_SCOPE_VALUES} values.`);
  for (const t of tokens) {
    if (!SCOPE_TOKEN.test(t)) throw invalidScope('A scope token has characters RFC 6749 does not allow.');
  }
  return [...new Set(tokens)].sort();
}

/** The scope that lets an access token act on the admin API as its user, within the user's role (src/manage/sign-in.ts). */
export const MANAGE_SCOPE = 'manage';

/** What a scope rule needs of the client asking: its key type, and whether it has a secret. */
export interface ScopeClient {
  keyType: KeyType;
  /** null: a public client */
  secretHash: string | null;
}

/**
 * The scope granted for a request: PRODUCTION / SANDBOX (as the original WSO2 page sends)
 * must match the key type of the consumer key used; `manage` only for a confidential client
 * (clientMayHold); no scope at all grants "default".
 */
export function grantScope(requested: string[], client: ScopeClient): string[] {
  for (const t of requested) {
    if (KEY_TYPE_SCOPES.has(t) && t !== client.keyType) {
      throw invalidScope(`scope ${t} does not match this consumer key, which is a ${client.keyType} key`);
    }
  }
  clientMayHold(requested, client);
  return requested.length === 0 ? [DEFAULT_SCOPE] : requested;
}

/**
 * `manage` is for confidential clients only. A public client proves nothing about itself:
 * anyone may start its browser flow with its client_id (a loopback callback matches on any
 * port, an app's own scheme can be claimed by another app), so the user's whole admin-API power
 * would rest on nothing but the name the consent page shows. The password grant, the other way
 * to a `manage` token, takes confidential clients only as well. Checked for every new grant and
 * every refresh (a public client's grant made before this rule cannot renew `manage`).
 */
export function clientMayHold(scope: readonly string[], client: ScopeClient): void {
  if (client.secretHash === null && scope.includes(MANAGE_SCOPE)) {
    throw invalidScope(`scope ${MANAGE_SCOPE} (the admin API as the user) is for confidential clients only, and this client has no secret: ask without ${MANAGE_SCOPE}`);
  }
}

/** On refresh the scope may only narrow: every requested token must already be granted. */
export function narrowScope(requested: string[], granted: string[]): string[] {
  if (requested.length === 0) return granted;
  const have = new Set(granted);
  const extra = requested.filter((t) => !have.has(t));
  if (extra.length > 0) throw invalidScope('The scope may not widen on refresh: it asks for a scope token that was not granted.');
  return requested;
}

export const formatScope = (scope: string[]): string => scope.join(' ');

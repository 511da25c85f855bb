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

/**
 * The scope granted for a request: PRODUCTION / SANDBOX (as the original WSO2 page sends)
 * must match the key type of the consumer key used; no scope at all grants "default".
 */
export function grantScope(requested: string[], keyType: KeyType): string[] {
  for (const t of requested) {
    if (KEY_TYPE_SCOPES.has(t) && t !== keyType) {
      throw invalidScope(`scope ${t} does not match this consumer key, which is a ${keyType} key`);
    }
  }
  return requested.length === 0 ? [DEFAULT_SCOPE] : requested;
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

import { InvalidInput } from '../errors.js';
import type { StorePage } from '../store/page.js';

/** One page of a list as every interface returns it: the items and the cursor of the next page, or null. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface PageRequest {
  limit?: number;
  cursor?: string;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export function limitOf(req: PageRequest): number {
  const limit = req.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new InvalidInput('limit', `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return limit;
}

/** Every item of a paged list, for an interface that needs all of it (a select of one's applications, `tier list`, a filter the service does not offer). */
export async function everyPage<T>(load: (page: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await load({ limit: MAX_LIMIT, ...(cursor !== undefined ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  return out;
}

/** The refusal of a cursor no list returned. */
export const badCursor = (): InvalidInput => new InvalidInput('cursor', 'the cursor is not one this list returned; start again without it');

/** The store's position a cursor stands for; `check` says whether a decoded value has the right shape. */
export function positionOf<K>(req: PageRequest, check: (value: unknown) => value is K): K | undefined {
  if (req.cursor === undefined || req.cursor === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(req.cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  // exactly what a list returns (the decoder skips characters base64url has not: `abc..` reads as `abc`)
  if (!check(value) || cursorOf(value) !== req.cursor) throw badCursor();
  return value;
}

/** The cursor of a store position: its JSON in base64url. */
export const cursorOf = (position: unknown): string => Buffer.from(JSON.stringify(position)).toString('base64url');

/** A store page as the interfaces return it, each item shown by `view`. */
export function pageView<T, K, V>(page: StorePage<T, K>, view: (item: T) => V): Page<V> {
  return {
    items: page.items.map(view),
    next: page.next === undefined ? null : cursorOf(page.next),
  };
}

/** Text a cursor may hold: what a list returned (PostgreSQL refuses a NUL in text with an error, not an empty page). */
export const isString = (v: unknown): v is string => typeof v === 'string' && v.length <= 1024 && !/\u0000|\p{Cs}/u.test(v);
/** A whole number a cursor may hold: the databases' integer columns take no fraction and nothing past 2^53 (PostgreSQL refused 1.5 with a 500). */
export const isNumber = (v: unknown): v is number => Number.isSafeInteger(v);
export const isNameId = (v: unknown): v is { name: string; id: string } =>
  typeof v === 'object' && v !== null && isString((v as { name?: unknown }).name) && isString((v as { id?: unknown }).id);
export const isNameVersion = (v: unknown): v is { name: string; version: string } =>
  typeof v === 'object' && v !== null && isString((v as { name?: unknown }).name) && isString((v as { version?: unknown }).version);

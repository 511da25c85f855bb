import { invalidRequest } from './errors.js';

/** A parsed application/x-www-form-urlencoded body: a repeated key arrives as an array. */
export type FormBody = Record<string, string | string[] | undefined>;

/**
 * Reads form parameters under RFC 6749 §3.2: each at most once (a repeat is invalid_request)
 * and an empty value treated as absent.
 */
export class Params {
  constructor(private readonly body: FormBody) {}

  get(name: string): string | undefined {
    const v = this.body[name];
    if (Array.isArray(v)) throw invalidRequest(`parameter "${name}" is repeated`);
    return v === '' ? undefined : v;
  }

  require(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw invalidRequest(`missing parameter "${name}"`);
    return v;
  }

  /** Rejects any repeated parameter at all, so no handler can miss one. */
  assertNoRepeats(): void {
    for (const [k, v] of Object.entries(this.body)) {
      if (Array.isArray(v)) throw invalidRequest(`parameter "${k}" is repeated`);
    }
  }
}

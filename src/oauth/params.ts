import { hasNul, type FormBody } from '../http/form.js';
import { invalidRequest } from './errors.js';

/**
 * Reads form parameters under RFC 6749 §3.2: each at most once (a repeat is invalid_request)
 * and an empty value treated as absent.
 */
export class Params {
  constructor(
    private readonly body: FormBody,
    /** When set, only these names may be read (a grant's declared parameters). */
    private readonly allowed?: ReadonlySet<string>,
  ) {}

  /** A view for one grant: reading a parameter it did not declare is a programming error. */
  only(names: ReadonlySet<string>): Params {
    return new Params(this.body, names);
  }

  get(name: string): string | undefined {
    if (this.allowed !== undefined && !this.allowed.has(name)) throw new Error(`a handler read parameter '${name}' it did not declare`);
    const v = this.body[name];
    if (Array.isArray(v)) throw invalidRequest(`parameter '${name}' is repeated`);
    return v === '' ? undefined : v;
  }

  require(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw invalidRequest(`missing parameter '${name}'`);
    return v;
  }

  /** Rejects any repeated parameter at all, so no handler can miss one. */
  assertNoRepeats(): void {
    for (const [k, v] of Object.entries(this.body)) {
      if (Array.isArray(v)) throw invalidRequest(KNOWN_PARAMETERS.has(k) ? `parameter '${k}' is repeated` : 'a parameter is repeated');
    }
  }

  /**
   * Rejects a NUL character in any parameter name or value: no protocol value has one, and
   * PostgreSQL cannot store or even compare text containing it (it would be a 500).
   */
  assertNoNul(): void {
    if (hasNul(this.body)) throw invalidRequest('a parameter contains a NUL character');
  }
}

/** Parameter names an error description may repeat back: ours, never whatever the client made up. */
const KNOWN_PARAMETERS = new Set([
  'grant_type', 'client_id', 'client_secret', 'scope', 'username', 'password', 'refresh_token', 'code', 'redirect_uri',
  'code_verifier', 'assertion', 'token', 'token_type_hint', 'response_type', 'response_mode', 'state',
  'code_challenge', 'code_challenge_method',
]);

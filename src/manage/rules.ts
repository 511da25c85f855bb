import { X509Certificate } from 'node:crypto';
import { Conflict, InvalidInput } from '../errors.js';
import { ROLES, type Role } from '../store/users.js';
import { KEY_TYPES, MAX_CONTEXT_SEGMENTS, type KeyType } from '../types.js';

/**
 * Every rule a management input must meet, in one place: the CLI, the admin REST API and the
 * portal all reach these through the service, so the same input gets the same answer. Each
 * failure names its field (as the REST API spells it) and says what would be accepted.
 */

/**
 * A lone UTF-16 surrogate (`"\ud800"` in JSON) is no character: stored, it comes back as
 * U+FFFD, so two different names would read back the same (and a name would not find itself).
 */
const LONE_SURROGATE = /\p{Cs}/u;

export const USERNAME_PATTERN = /^[A-Za-z0-9._@+-]{1,255}$/;
/** NIST SP 800-63B §5.1.1: at least 8 characters; no maximum below 64 (ours is far above). */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export function username(raw: string, field = 'username'): string {
  if (!USERNAME_PATTERN.test(raw)) throw new InvalidInput(field, `invalid username "${printable(raw)}": use letters, digits and . _ @ + - (at most 255)`);
  // "." and ".." would be path segments in every URL that names the user (/users/.., the portal's pages).
  if (/^\.+$/.test(raw)) throw new InvalidInput(field, `invalid username "${raw}": a name must have a character other than "."`);
  return raw;
}

export function password(raw: string, user?: string): string {
  const length = [...raw].length;
  if (length === 0) throw new InvalidInput('password', 'the password may not be empty');
  if (length < MIN_PASSWORD_LENGTH) throw new InvalidInput('password', `the password is too short: use at least ${MIN_PASSWORD_LENGTH} characters (a passphrase of a few words is easy to remember)`);
  if (length > MAX_PASSWORD_LENGTH) throw new InvalidInput('password', `the password is longer than ${MAX_PASSWORD_LENGTH} characters`);
  if (LONE_SURROGATE.test(raw)) throw new InvalidInput('password', 'the password is not valid Unicode text (it has a lone surrogate, \\uD800–\\uDFFF)');
  if (user !== undefined && raw === user) throw new InvalidInput('password', 'the password may not be the username');
  return raw;
}

export function role(raw: string): Role {
  if (!(ROLES as readonly string[]).includes(raw)) throw new InvalidInput('role', `invalid role "${printable(raw)}": one of ${ROLES.join(', ')}`);
  return raw as Role;
}

export function keyType(raw: string): KeyType {
  const upper = raw.toUpperCase();
  if (!(KEY_TYPES as readonly string[]).includes(upper)) throw new InvalidInput('keyType', `invalid key type "${printable(raw)}": PRODUCTION or SANDBOX`);
  return upper as KeyType;
}

/** 1 to 100 characters (code points), none a control character or a lone surrogate. */
const NAME = /^[^\x00-\x1f\x7f\p{Cs}]{1,100}$/u;

export function applicationName(raw: string): string {
  if (!NAME.test(raw) || raw.trim() !== raw) {
    throw new InvalidInput('name', `invalid application name "${printable(raw)}": 1 to 100 printable characters, no leading or trailing space`);
  }
  return raw;
}

export function apiName(raw: string): string {
  if (!NAME.test(raw) || raw.includes(':') || raw.trim() !== raw) {
    throw new InvalidInput('name', `invalid API name "${printable(raw)}": 1 to 100 printable characters, no colon, no leading or trailing space`);
  }
  return raw;
}

/** Free text shown on the portal: up to 2000 characters, line breaks allowed, no other control characters. */
export function description(raw: string | null): string | null {
  if (raw === null || raw === '') return null;
  if ([...raw].length > 2000) throw new InvalidInput('description', 'the description is longer than 2000 characters');
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(raw)) throw new InvalidInput('description', 'the description may not contain control characters');
  if (LONE_SURROGATE.test(raw)) throw new InvalidInput('description', 'the description is not valid Unicode text (it has a lone surrogate, \\uD800–\\uDFFF)');
  return raw;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:']);

/**
 * A redirect URI an OAuth client may register: absolute, no fragment (RFC 6749 §3.1.2), exactly
 * as it will be compared and sent back in a Location header (ASCII only: an IDN host in
 * punycode, other characters percent-encoded), and over TLS (RFC 9700 §2.1: the authorization
 * code travels in it) unless it is a loopback or private-use URI of a native app (RFC 8252) or
 * the operator allows plain http (`oauth.allowInsecureCallbacks`).
 */
export function callbackUrl(raw: string, allowInsecure: boolean, field = 'callbackUrls'): string {
  if (raw.trim() !== raw) throw new InvalidInput(field, `invalid callback URL "${raw}": remove the spaces around it`);
  if (/[^\x21-\x7e]/.test(raw)) {
    const suggestion = URL.canParse(raw) ? ` such as ${new URL(raw).href}` : '';
    throw new InvalidInput(
      field,
      `invalid callback URL "${raw.replace(/[\x00-\x1f\x7f]/g, '?')}": only ASCII without spaces or control characters; ` +
        `give the host in punycode and percent-encode the rest${suggestion}`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInput(field, `invalid callback URL "${raw}": it must be an absolute URL such as https://app.example.com/callback`);
  }
  if (raw.length > 2000) throw new InvalidInput(field, 'invalid callback URL: longer than 2000 characters');
  if (raw.includes('#')) throw new InvalidInput(field, `invalid callback URL "${raw}": it may not contain a fragment (#)`);
  if (FORBIDDEN_SCHEMES.has(url.protocol)) throw new InvalidInput(field, `invalid callback URL "${raw}": the ${url.protocol} scheme is not allowed`);
  if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.hostname) throw new InvalidInput(field, `invalid callback URL "${raw}": no host`);
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !allowInsecure) {
    throw new InvalidInput(
      field,
      `invalid callback URL "${raw}": use https; the authorization code travels in this URL and plain http exposes it (RFC 9700 §2.1). ` +
        'http is accepted only for loopback hosts (127.0.0.1, [::1], localhost) unless the operator sets oauth.allowInsecureCallbacks',
    );
  }
  return raw;
}

export function callbackUrls(list: readonly string[], allowInsecure: boolean): string[] {
  if (list.length > 20) throw new InvalidInput('callbackUrls', 'at most 20 callback URLs');
  return [...new Set(list.map((u) => callbackUrl(u, allowInsecure)))];
}

/** Browser origins allowed to call the token endpoints (CORS): scheme://host[:port], https or loopback http. */
export function origins(list: readonly string[]): string[] {
  if (list.length > 20) throw new InvalidInput('allowedOrigins', 'at most 20 origins');
  return [
    ...new Set(
      list.map((raw) => {
        let url: URL | undefined;
        try {
          url = new URL(raw);
        } catch {
          url = undefined;
        }
        if (url === undefined || url.origin !== raw || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
          throw new InvalidInput('allowedOrigins', `invalid origin "${printable(raw)}": write scheme://host[:port] with no path, such as https://app.example.com`);
        }
        if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
          throw new InvalidInput('allowedOrigins', `invalid origin "${raw}": use https (plain http only for loopback hosts)`);
        }
        return raw;
      }),
    ),
  ];
}

/** Paths the node itself answers on; an API context may not shadow them. */
const RESERVED = ['/token', '/login', '/revoke', '/introspect', '/authorize', '/.well-known', '/health', '/metrics', '/jwks', '/api', '/store', '/publisher', '/admin'];
const CONTEXT = /^(\/[A-Za-z0-9._~-]+)+$/;
const VERSION = /^[A-Za-z0-9._-]{1,64}$/;

/** The first segment of a (valid) context, '/weather' of '/weather/daily': every API whose route could overlap its route shares it. */
export const firstSegment = (ctx: string): string => `/${ctx.split('/')[1]}`;

export function context(raw: string): string {
  const ctx = raw.startsWith('/') ? raw : `/${raw}`;
  if (!CONTEXT.test(ctx) || ctx.length > 255 || ctx.split('/').some((s) => s === '.' || s === '..')) {
    throw new InvalidInput('context', `invalid context "${printable(raw)}": use path segments like /weather or /partners/weather (at most ${MAX_CONTEXT_SEGMENTS})`);
  }
  const segments = ctx.split('/').length - 1;
  if (segments > MAX_CONTEXT_SEGMENTS) {
    throw new InvalidInput(
      'context',
      `context "${ctx}" has ${segments} path segments: the gateway routes contexts of at most ${MAX_CONTEXT_SEGMENTS} (such as /partners/eu/weather/daily), so calls to this one would never reach it`,
    );
  }
  const first = firstSegment(ctx);
  if (RESERVED.includes(first)) throw new InvalidInput('context', `context "${ctx}" is reserved for the node's own endpoints (${RESERVED.join(', ')})`);
  return ctx;
}

/** Where the gateway serves an API: its context's segments, then its version (/p/weather + v1 is p, weather, v1). */
export const routeOf = (api: { context: string; version: string }): string[] => [...api.context.split('/').slice(1), api.version];

export interface RoutedApi {
  id: string;
  name: string;
  context: string;
  version: string;
}

/**
 * An API's route may not overlap another API's. The gateway matches a request path's
 * /{context}/{version} prefixes shortest first and takes the first API it finds
 * (src/gateway/routing.ts), so two routes are ambiguous exactly when one is the start of the
 * other, segment by segment: /p + version weather (p, weather) takes every call meant for
 * /p/weather + version v1 (p, weather, v1), which could never be reached. Routes that only share a
 * start (/p + v1 and /p + v2, /p/weather + v1 and /p + v1) are fine. Every other API counts,
 * whatever its status (a created or retired one can be published later), except one deeper than
 * the gateway routes.
 */
export function distinctRoute(api: { id?: string; context: string; version: string }, others: readonly RoutedApi[], field: 'context' | 'version' = 'context'): void {
  const mine = routeOf(api);
  for (const other of others) {
    const theirs = routeOf(other);
    // Itself, or an API stored before contexts were limited, deeper than the gateway routes: it never takes a call.
    if (other.id === api.id || theirs.length - 1 > MAX_CONTEXT_SEGMENTS) continue;
    const n = Math.min(mine.length, theirs.length);
    if (!mine.slice(0, n).every((s, i) => s === theirs[i])) continue;
    const ref = `API ${other.name}:${other.version} (context ${other.context}, version ${other.version})`;
    const path = (route: string[]) => `/${route.join('/')}/…`;
    const why =
      mine.length === theirs.length
        ? `is already used by ${ref}`
        : mine.length < theirs.length
          ? `overlaps ${ref}: the gateway would send every call to ${path(theirs)} to this API, so ${other.name}:${other.version} could never be reached`
          : `overlaps ${ref}: the gateway sends every call to ${path(mine)} to ${other.name}:${other.version}, so this API could never be reached`;
    throw new Conflict(`context ${api.context} with version ${api.version} ${why}; choose another context or version`, field);
  }
}

export function version(raw: string): string {
  if (!VERSION.test(raw) || raw === '.' || raw === '..') throw new InvalidInput('version', `invalid version "${printable(raw)}": letters, digits, . _ - (at most 64)`);
  return raw;
}

export function backendUrl(field: 'productionUrl' | 'sandboxUrl', raw: string): string {
  // as for callback URLs: the URL parser would drop the spaces, the stored value would keep them
  if (raw.trim() !== raw) throw new InvalidInput(field, `invalid ${field} "${printable(raw)}": remove the spaces around it`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInput(field, `invalid ${field} "${printable(raw)}": an absolute http(s) URL such as http://backend.internal:8080/v1`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInput(field, `invalid ${field} "${raw}": only http and https backends`);
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) throw new InvalidInput(field, `invalid ${field} "${raw}": no query string or fragment`);
  if (url.username || url.password) throw new InvalidInput(field, `invalid ${field} "${printable(raw)}": no credentials in the URL`);
  return raw.replace(/\/+$/, '');
}

/** A tier the node is configured with (`throttling.tiers`). */
export function knownTier(raw: string, tiers: Record<string, unknown>, field = 'tier'): string {
  if (!Object.hasOwn(tiers, raw)) throw new InvalidInput(field, `unknown tier "${printable(raw)}": configured tiers are ${Object.keys(tiers).join(', ')}`);
  return raw;
}

export function apiTiers(list: readonly string[], tiers: Record<string, unknown>): string[] {
  // as given, as an application's or a subscription's tier (knownTier): " Gold" is no tier
  const unique = [...new Set(list)];
  if (unique.length === 0) throw new InvalidInput('tiers', `give at least one tier: configured tiers are ${Object.keys(tiers).join(', ')}`);
  const unknown = unique.filter((t) => !Object.hasOwn(tiers, t));
  if (unknown.length > 0) throw new InvalidInput('tiers', `unknown tier ${unknown.map((t) => `"${printable(t)}"`).join(', ')}: configured tiers are ${Object.keys(tiers).join(', ')}`);
  return unique;
}

/** Lifetime of application tokens issued with a key. */
/** A whole number given as a number (the API, the CLI) or as the text of a form field (the portal), whose refusal quotes what was sent. */
const wholeNumber = (raw: number | string): number => (typeof raw === 'number' ? raw : /^[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN);

export function validitySeconds(raw: number | string): number {
  const n = wholeNumber(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10 * 365 * 86400) throw new InvalidInput('validitySeconds', `invalid validity "${printable(String(raw))}": a whole number of seconds from 1 to 315360000`);
  return n;
}

export function timeoutMs(raw: number | string): number {
  const n = wholeNumber(raw);
  if (!Number.isInteger(n) || n < 1 || n > 600_000) throw new InvalidInput('timeoutMs', `invalid timeout "${printable(String(raw))}": 1 to 600000 ms`);
  return n;
}

/** A SAML entity ID, alias or audience: a URI of 1 to 512 characters, no whitespace or control characters. */
export function uri(field: 'issuer' | 'alias' | 'audiences', raw: string): string {
  if (raw.length === 0 || raw.length > 512 || /[\s\x00-\x1f\x7f]|\p{Cs}/u.test(raw)) {
    throw new InvalidInput(field, `${field} must be a URI of 1 to 512 characters without spaces (got ${JSON.stringify(raw.slice(0, 80))})`);
  }
  return raw;
}

/** An IdP's accepted Audience values (RFC 7522 §3 item 2): at most 20 URIs. */
export function audiences(list: readonly string[]): string[] {
  if (list.length > 20) throw new InvalidInput('audiences', 'give at most 20 audiences');
  return [...new Set(list.map((a) => uri('audiences', a)))];
}

/** PEM certificates of an IdP: each entry exactly one parseable X.509 certificate. */
export function certificates(list: readonly string[]): { pem: string; cert: X509Certificate }[] {
  if (list.length === 0) throw new InvalidInput('certificates', 'give at least one certificate (PEM)');
  if (list.length > 10) throw new InvalidInput('certificates', 'at most 10 certificates');
  return list.map((text, i) => {
    const where = list.length === 1 ? 'the certificate' : `certificate ${i + 1}`;
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length !== 1) throw new InvalidInput('certificates', `${where} must be exactly one PEM certificate (found ${blocks.length})`);
    try {
      return { pem: `${blocks[0]!}\n`, cert: new X509Certificate(blocks[0]!) };
    } catch (err) {
      throw new InvalidInput('certificates', `${where} is not a valid X.509 certificate: ${(err as Error).message}`);
    }
  });
}

/** A value as it may be echoed in a message: control characters and lone surrogates shown as '?', at most 200 characters. */
function printable(raw: string): string {
  const chars = [...raw.replace(/[\x00-\x1f\x7f]|\p{Cs}/gu, '?')];
  // cut by code points: a cut inside a pair would leave half an emoji, a lone surrogate
  return chars.length > 200 ? `${chars.slice(0, 200).join('')}…` : chars.join('');
}

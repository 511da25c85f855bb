/**
 * Matching a requested redirect_uri against an application's registered callback URLs:
 * exact string comparison (RFC 9700 §4.1.3, no normalisation: case, an added query or
 * fragment, a trailing slash all make it a different URI), except that a native app's
 * loopback callback `http://127.0.0.1:{port}/…` or `http://[::1]:{port}/…` matches on any
 * port (RFC 8252 §7.3), the rest of the URI still compared exactly.
 */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?][^#]*)?$/;

function withoutLoopbackPort(uri: string): string | undefined {
  const m = LOOPBACK.exec(uri);
  if (!m) return undefined;
  if (m[2] !== undefined && Number(m[2]) > 65535) return undefined;
  return `http://${m[1]}${m[3] ?? ''}`;
}

export function redirectUriMatches(requested: string, registered: string): boolean {
  if (requested === registered) return true;
  const a = withoutLoopbackPort(requested);
  return a !== undefined && a === withoutLoopbackPort(registered);
}

export type RedirectResolution = { ok: true; redirectUri: string; sent: boolean } | { ok: false; reason: string };

/**
 * The redirect URI to use for a request: the requested one when registered, or the only
 * registered one when none was requested. Anything else is refused before any redirect.
 */
export function resolveRedirectUri(requested: string | undefined, registered: readonly string[]): RedirectResolution {
  if (registered.length === 0) return { ok: false, reason: 'The application has no callback URL registered.' };
  if (requested === undefined) {
    if (registered.length === 1) return { ok: true, redirectUri: registered[0]!, sent: false };
    return { ok: false, reason: 'The application registers several callback URLs, so the request must name one in redirect_uri.' };
  }
  if (registered.some((r) => redirectUriMatches(requested, r))) return { ok: true, redirectUri: requested, sent: true };
  return { ok: false, reason: 'The redirect_uri is not a callback URL registered for this application.' };
}

/** Appends response parameters to a redirect URI, keeping its own query untouched. */
export function withParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, v);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${q.toString()}`;
}

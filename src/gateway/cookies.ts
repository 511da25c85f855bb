/**
 * Gatehouse's own cookies and backends, both ways. The gateway shares its host with the
 * authorization server (/authorize, its login and consent pages) and with the portal (another
 * port, but browsers scope cookies by host, not port), so:
 *
 * - a backend must not be able to plant or overwrite the server's own session cookie (session
 *   fixation on the login flow), nor any cookie for paths outside its own API;
 * - a backend never gets the server's own cookies (the portal's session, its CSRF token, the
 *   login session) that a browser sends along with a call to the gateway on the same host.
 */

/** Gatehouse's cookies (`gatehouse_session`, `__Secure-gatehouse_session`, anything `gatehouse…`), in any case. */
const OWN = /^(?:__secure-|__host-)?gatehouse/i;

/** Cheap first look: a Cookie header that names no Gatehouse cookie passes as it is. */
const MENTIONS_OWN = /gatehouse/i;

/**
 * The name a browser will send the cookie under. A pair without "=" or with an empty name
 * (`=gatehouse_session=x`) is a nameless cookie whose value a browser sends as it is, which a
 * server then parses as `gatehouse_session=x`: the name is read after any leading "=".
 */
function effectiveName(pair: string): string {
  let i = 0;
  const n = pair.length;
  while (i < n && (pair.charCodeAt(i) === 0x20 || pair.charCodeAt(i) === 0x09 || pair.charCodeAt(i) === 0x3d /* = */)) i++;
  const eq = pair.indexOf('=', i);
  return (eq === -1 ? pair.slice(i) : pair.slice(i, eq)).trim();
}

/** The value of the cookie's last `Path` attribute (RFC 6265 §5.3 step 7 uses the last one), or undefined. */
function pathAttribute(attributes: string): string | undefined {
  let path: string | undefined;
  for (const part of attributes.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim().toLowerCase() !== 'path') continue;
    path = part.slice(eq + 1).trim();
  }
  return path;
}

/**
 * Whether one backend `Set-Cookie` value may reach the client of the API served under `apiPath`
 * (`/{context}/{version}`): not one of Gatehouse's cookies, and with no `Path` or a `Path` at or
 * under `apiPath` (a `Path` that does not start with "/" makes the browser use the request's own
 * directory, which is under the API).
 */
export function allowedSetCookie(value: string, apiPath: string): boolean {
  const semi = value.indexOf(';');
  const pair = semi === -1 ? value : value.slice(0, semi);
  if (OWN.test(effectiveName(pair))) return false;
  if (semi === -1) return true;
  const path = pathAttribute(value.slice(semi + 1));
  if (path === undefined || path.charCodeAt(0) !== 0x2f /* / */) return true;
  return path === apiPath || (path.startsWith(apiPath) && path.charCodeAt(apiPath.length) === 0x2f);
}

/** The backend's Set-Cookie values that may reach the client; the same array when all may. */
export function filterSetCookie(values: string[], apiPath: string): string[] {
  let out: string[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const ok = allowedSetCookie(values[i]!, apiPath);
    if (!ok && out === undefined) out = values.slice(0, i);
    else if (ok && out !== undefined) out.push(values[i]!);
  }
  return out ?? values;
}

/**
 * A request's `Cookie` header for the backend: without Gatehouse's own cookies (in any case,
 * with any prefix), the others as they were; undefined when none is left.
 */
export function withoutOwnCookies(value: string): string | undefined {
  if (!MENTIONS_OWN.test(value)) return value;
  const kept = value.split(';').filter((pair) => !OWN.test(effectiveName(pair))).map((pair) => pair.trim()).filter((pair) => pair !== '');
  return kept.length === 0 ? undefined : kept.join('; ');
}

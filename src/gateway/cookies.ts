/**
 * Which backend `Set-Cookie` headers reach the client. The gateway shares its origin with the
 * authorization server (/authorize, its login and consent pages), so a backend must not be able
 * to plant or overwrite the server's own session cookie (session fixation on the login flow),
 * nor any cookie for paths outside its own API.
 */

/** Gatehouse's cookies (`gatehouse_session`, `__Secure-gatehouse_session`, anything `gatehouse…`), in any case. */
const OWN = /^(?:__secure-|__host-)?gatehouse/i;

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

/**
 * Headers a request must not repeat: two Host headers (RFC 9112 §3.2: 400) or two Authorization
 * headers. Node keeps only the first Authorization in `req.headers` and drops the rest, so a
 * proxy in front that reads the last one and Gatehouse would act on different credentials; RFC
 * 6750 §3.1 and RFC 6749 §2.3 make a request with more than one credential invalid_request.
 * One pass over `rawHeaders`, no allocation (the gateway runs it on every call).
 */
export const REPEATED_HOST = 1;
export const REPEATED_AUTHORIZATION = 2;

/** A bit set of {@link REPEATED_HOST} and {@link REPEATED_AUTHORIZATION}; 0 when neither is repeated. */
export function repeatedHeaders(raw: readonly string[]): number {
  let hosts = 0;
  let auths = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === 4) {
      if ((n.charCodeAt(0) | 0x20) === 0x68 && (n.charCodeAt(1) | 0x20) === 0x6f && (n.charCodeAt(2) | 0x20) === 0x73 && (n.charCodeAt(3) | 0x20) === 0x74) hosts++;
    } else if (n.length === 13 && (n.charCodeAt(0) | 0x20) === 0x61 && n.toLowerCase() === 'authorization') auths++;
  }
  return (hosts > 1 ? REPEATED_HOST : 0) | (auths > 1 ? REPEATED_AUTHORIZATION : 0);
}

/** Whether the request carries more than one Authorization header (every interface refuses it). */
export const repeatsAuthorization = (raw: readonly string[]): boolean => (repeatedHeaders(raw) & REPEATED_AUTHORIZATION) !== 0;

/** What the token endpoints and the admin API answer such a request (each in its own format). */
export const ONE_AUTHORIZATION = 'Send one Authorization header: this request has more than one.';

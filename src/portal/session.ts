import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../crypto/hash.js';
import { randomToken } from '../crypto/random.js';
import { Forbidden, GatehouseError } from '../errors.js';
import type { FormBody } from '../http/form.js';
import type { Management, PortalSignIn } from '../manage/index.js';
import { PORTAL_SESSION_TTL } from '../manage/sessions.js';

/** The sign-in cookie: host-only, HTTPS only, never readable by script, sent on top-level navigation. */
export const SESSION_COOKIE = '__Host-gatehouse_portal';
/** The CSRF cookie of the forms shown before sign-in (double submit). */
export const CSRF_COOKIE = '__Host-gatehouse_csrf';

const cookieOptions = { path: '/', httpOnly: true, secure: true, sameSite: 'lax' as const };

/** What a portal request knows about its browser. */
export interface PortalRequestState {
  signIn: PortalSignIn | undefined;
  /** The cookie's raw token (to open the flash). */
  token: string | undefined;
  /** The CSRF token the page's forms carry. */
  csrf: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    portal?: PortalRequestState;
  }
}

/** Reads the browser's sign-in (and, before sign-in, its CSRF cookie, set when missing). */
export async function resolveSession(m: Management, request: FastifyRequest, reply: FastifyReply): Promise<PortalRequestState> {
  const token = request.cookies[SESSION_COOKIE];
  const signIn = token ? await m.portalSessions.current(token, { via: 'portal', address: request.ip }) : undefined;
  if (signIn) return { signIn, token, csrf: signIn.csrfToken };
  let csrf = request.cookies[CSRF_COOKIE];
  if (!csrf || csrf.length !== 43) {
    csrf = randomToken(32);
    reply.setCookie(CSRF_COOKIE, csrf, cookieOptions);
  }
  return { signIn: undefined, token: undefined, csrf };
}

export function setSessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, { ...cookieOptions, maxAge: PORTAL_SESSION_TTL });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions);
}

/**
 * Refuses a form that is not from this portal: the CSRF token must match (the session's, or
 * the CSRF cookie's before sign-in), and a browser that says where the form came from
 * (Origin, Sec-Fetch-Site) must say this site.
 */
export function checkForm(request: FastifyRequest, form: FormBody, state: PortalRequestState): void {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new Forbidden('This form was sent from another site, so it was refused.');
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null' && origin !== `https://${request.headers.host}`) throw new Forbidden('This form was sent from another site, so it was refused.');
  if (origin === 'null') throw new Forbidden('This form was sent from another site, so it was refused.');
  const sent = form.csrf;
  if (typeof sent !== 'string' || sent.length === 0 || !constantTimeEqual(sent, state.csrf)) {
    throw new GatehouseError('forbidden', 'This form has expired or was not sent from this page. Go back, reload the page and try again.');
  }
}

import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../../crypto/random.js';
import type { LoginSession, PendingRequest } from '../../store/sessions.js';
import { describeError, worthLogging } from '../../errors.js';
import { toGatehouseError } from '../../http/errors.js';
import { FORM, formBodyOf, type FormBody } from '../../http/form.js';
import { MANAGE_SCOPE } from '../scope.js';
import type { OAuthService } from '../service.js';
import { consentRemembered, destinationOf, errorRedirect, issueCode, mayRememberConsent, type Authorization, type FlowDeps } from './flow.js';
import { consentPage, CSP, cspFor, errorPage, loginPage } from './html.js';
import { AuthorizePageError, validateAuthorizationRequest } from './request.js';
import { BrowserSessions, csrfValid, REQUEST_TTL } from './session.js';

import { nowSeconds } from '../../clock.js';

/** Headers of every response here: never cached, never framed (clickjacking on consent), no referrer. */
const PAGE_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-frame-options': 'DENY',
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

const sessionExpired = () =>
  new AuthorizePageError('Your sign-in has expired', 'This sign-in request is no longer valid (it took too long, was already answered, or your browser does not keep cookies).');

const FORM_MESSAGES = { tooLarge: 'The form is too large.', badContentType: `The form must be sent as ${FORM}.` };

function formBody(request: FastifyRequest): FormBody {
  const body = formBodyOf(request);
  if (body === undefined) throw new AuthorizePageError('Invalid request', FORM_MESSAGES.badContentType);
  return body;
}

/** A single string form/query field, or undefined (absent, empty, repeated, or with a NUL: never valid here). */
function field(source: unknown, name: string): string | undefined {
  const v = (source as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' && v !== '' && !v.includes('\u0000') ? v : undefined;
}

function pageErrorHandler(this: FastifyInstance, err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const g = toGatehouseError(err, FORM_MESSAGES);
  const e = AuthorizePageError.from(g);
  if (worthLogging(g)) request.log.error({ err: describeError(e) }, 'authorization endpoint failed');
  if (e.status === 503) reply.header('retry-after', String((g as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1));
  return reply.code(e.status).type('text/html; charset=utf-8').send(errorPage(e.title, e.message));
}

/**
 * The authorization endpoint (RFC 6749 §4.1) with its sign-in and consent pages, on a gateway
 * listener. The validated request waits server-side, bound to the browser's session, under a
 * random id the pages carry; the forms carry only that id and the CSRF token.
 */
export async function authorizeRoutes(app: FastifyInstance, opts: { service: OAuthService; secure: boolean }): Promise<void> {
  const { service } = opts;
  const store = service.store;
  const sessions = new BrowserSessions(store.sessions, opts.secure);
  const deps: FlowDeps = {
    codes: store.codes,
    consents: store.consents,
    format: service.format,
    issuer: service.config.issuer,
    codeValidity: service.config.authorizationCodeValidity,
  };

  await app.register(formbody, { bodyLimit: 65536 });
  await app.register(cookie);
  app.setErrorHandler(pageErrorHandler);
  app.addHook('onSend', async (_request, reply, payload) => {
    // A page that set its own policy (its form's redirect target) keeps it.
    const csp = reply.getHeader('content-security-policy');
    reply.headers(PAGE_HEADERS);
    if (csp !== undefined) reply.header('content-security-policy', csp);
    return payload;
  });

  /** A browser without a live session gets one, within its address's budget of new sessions per window. */
  const newSession = async (request: FastifyRequest, reply: FastifyReply, now: number) => {
    const from = { address: request.ip };
    if (!service.newSessions.allows(from, now)) {
      reply.header('retry-after', String(service.newSessions.windowSeconds));
      throw new AuthorizePageError('Too many sign-in requests', 'Too many sign-in requests came from your network in a short time. Wait a minute and try again.', 429);
    }
    service.newSessions.spend(from, now);
    return sessions.start(reply, now);
  };

  const html = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body);

  /** A form posted from one of the pages: its session (CSRF-checked) and its pending request. */
  async function posted(request: FastifyRequest, page: string) {
    const form = formBody(request);
    const now = nowSeconds();
    const session = await sessions.current(request, now);
    if (!session) throw sessionExpired();
    if (!csrfValid(session, form.csrf)) throw new AuthorizePageError('Request refused', `The form was not sent from this ${page} page (CSRF check failed).`, 403);
    const { req, a } = await pending(session, field(form, 'request'), now);
    return { form, now, session, req, a };
  }

  /** The pending request of this session with its (still registered) client. */
  async function pending(session: LoginSession, requestId: string | undefined, now: number): Promise<{ req: PendingRequest; a: Authorization }> {
    if (requestId === undefined || requestId.length > 64) throw sessionExpired();
    const req = await store.sessions.findRequest(requestId, session.id, now);
    if (!req) throw sessionExpired();
    const client = await store.applications.findClient(req.consumerKey);
    if (!client) throw new AuthorizePageError('Invalid sign-in request', 'The application no longer exists.');
    return {
      req,
      a: {
        client,
        redirectUri: req.redirectUri,
        redirectUriSent: req.redirectUriSent,
        scope: req.scope,
        state: req.state ?? undefined,
        codeChallenge: req.codeChallenge ?? undefined,
        codeChallengeMethod: req.codeChallengeMethod ?? undefined,
      },
    };
  }

  const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
    const post = request.method === 'POST';
    const redirectStatus = post ? 303 : 302;
    const body = post ? formBody(request) : ((request.query ?? {}) as FormBody);
    const now = nowSeconds();
    const v = await validateAuthorizationRequest(body, store.applications);
    if (!v.ok) {
      const { redirectUri, error, state } = v.redirect;
      return reply.redirect(errorRedirect(deps, redirectUri, error.error, error.description, state), redirectStatus);
    }
    const a = v.request;
    const session = (await sessions.current(request, now)) ?? (await newSession(request, reply, now));
    if (session.userId !== null && session.username !== null && (await consentRemembered(deps, session.userId, a))) {
      return reply.redirect(await issueCode(deps, a, { username: session.username }, now), redirectStatus);
    }
    const id = randomToken(24);
    await store.sessions.addRequest({
      id,
      sessionId: session.id,
      consumerKey: a.client.consumerKey,
      redirectUri: a.redirectUri,
      redirectUriSent: a.redirectUriSent,
      scope: a.scope,
      state: a.state ?? null,
      codeChallenge: a.codeChallenge ?? null,
      codeChallengeMethod: a.codeChallengeMethod ?? null,
      createdAt: Date.now(),
      expiresAt: now + REQUEST_TTL,
    });
    const next = session.userId === null ? 'login' : 'consent';
    return reply.redirect(`/authorize/${next}?request=${encodeURIComponent(id)}`, redirectStatus);
  };
  app.get('/authorize', authorize);
  app.post('/authorize', authorize);

  app.get('/authorize/login', async (request, reply) => {
    const now = nowSeconds();
    const session = await sessions.current(request, now);
    if (!session) throw sessionExpired();
    const requestId = field(request.query, 'request');
    const { req, a } = await pending(session, requestId, now);
    if (session.userId !== null) return reply.redirect(`/authorize/consent?request=${encodeURIComponent(req.id)}`, 302);
    reply.header('content-security-policy', cspFor(a.redirectUri));
    return html(
      reply,
      loginPage({ applicationName: a.client.applicationName, requestId: req.id, csrf: session.csrfToken, failed: field(request.query, 'error') !== undefined }),
    );
  });

  app.post('/authorize/login', async (request, reply) => {
    const { form, now, session, req, a } = await posted(request, 'sign-in');
    const again = `/authorize/login?request=${encodeURIComponent(req.id)}&error=1`;
    const username = field(form, 'username');
    const password = field(form, 'password');
    if (username === undefined || password === undefined || username.length > 255 || password.length > 1024) return reply.redirect(again, 303);
    // The same checker as the password grant: one brute-force lock for both.
    const result = await service.passwords.check(username, password, now, { address: request.ip, session: session.id, client: a.client.consumerKey });
    if (!result.ok) return reply.redirect(again, 303);
    const user = { id: result.user.id, username: result.user.username };
    await sessions.signIn(reply, session, user, now);
    if (await consentRemembered(deps, user.id, a)) {
      if (!(await store.sessions.takeRequest(req.id, session.id))) throw sessionExpired();
      return reply.redirect(await issueCode(deps, a, user, now), 303);
    }
    return reply.redirect(`/authorize/consent?request=${encodeURIComponent(req.id)}`, 303);
  });

  app.get('/authorize/consent', async (request, reply) => {
    const now = nowSeconds();
    const session = await sessions.current(request, now);
    if (!session) throw sessionExpired();
    const { req, a } = await pending(session, field(request.query, 'request'), now);
    if (session.userId === null || session.username === null) return reply.redirect(`/authorize/login?request=${encodeURIComponent(req.id)}`, 302);
    // The words of `manage` depend on what the user may do: their role as it is now.
    const role = a.scope.includes(MANAGE_SCOPE) ? (await store.users.findByUsername(session.username))?.role : undefined;
    reply.header('content-security-policy', cspFor(a.redirectUri));
    return html(
      reply,
      consentPage({
        applicationName: a.client.applicationName,
        username: session.username,
        role,
        scope: a.scope,
        destination: destinationOf(a.redirectUri),
        requestId: req.id,
        csrf: session.csrfToken,
        remember: mayRememberConsent(a),
      }),
    );
  });

  app.post('/authorize/consent', async (request, reply) => {
    const { form, now, session, req, a } = await posted(request, 'consent');
    if (session.userId === null || session.username === null) return reply.redirect(`/authorize/login?request=${encodeURIComponent(req.id)}`, 303);
    const decision = field(form, 'decision');
    if (decision !== 'approve' && decision !== 'deny') throw new AuthorizePageError('Invalid request', 'Choose Approve or Deny.');
    // One decision per request: a double submit finds it gone.
    if (!(await store.sessions.takeRequest(req.id, session.id))) throw sessionExpired();
    if (decision === 'deny') {
      return reply.redirect(errorRedirect(deps, a.redirectUri, 'access_denied', 'The user denied the request.', a.state), 303);
    }
    if (field(form, 'remember') === '1' && mayRememberConsent(a)) await store.consents.remember(session.userId, a.client.applicationId, a.scope, now);
    return reply.redirect(await issueCode(deps, a, { username: session.username }, now), 303);
  });
}

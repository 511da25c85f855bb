import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, GatehouseError, worthLogging } from '../errors.js';
import { toGatehouseError } from '../http/errors.js';
import { FORM } from '../http/form.js';
import { html } from '../http/html.js';
import type { Management } from '../manage/index.js';
import { Kit, SignInRequired, type PortalSettings } from './kit.js';
import { PORTAL_CSP, portalPage } from './layout.js';
import { adminPages } from './pages/admin.js';
import { applicationPages } from './pages/applications.js';
import { publisherPages } from './pages/publisher.js';
import { storePages } from './pages/store.js';
import { resolveSession } from './session.js';

/** Headers of every portal page: never cached (secrets are shown once), never framed, no referrer, our CSP. */
const PAGE_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-frame-options': 'DENY',
  'content-security-policy': PORTAL_CSP,
  'x-content-type-options': 'nosniff',
  // The browser names our origin on our own form posts (checked against CSRF), and nothing to other sites.
  'referrer-policy': 'same-origin',
} as const;

const TITLES: Record<number, string> = { 400: 'That did not work', 403: 'Not allowed', 404: 'Not found', 409: 'That did not work', 413: 'Too large', 503: 'Temporarily unavailable' };

function errorHandler() {
  return async function handle(this: FastifyInstance, err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    if (err instanceof SignInRequired) return reply.redirect(`/store/signin?next=${encodeURIComponent(err.next)}`, 303);
    const e = toGatehouseError(err, { tooLarge: 'The form is too large.', badContentType: `Send the form as ${FORM}.` });
    if (worthLogging(e)) request.log.error({ err: describeError(e) }, 'portal page failed');
    const state = request.portal;
    const view = { actor: state?.signIn?.actor, csrf: state?.csrf ?? '', path: request.url.split('?')[0]! };
    const message = e.kind === 'unavailable' ? e.message : e.status >= 500 ? 'Something went wrong on our side. Try again in a moment.' : e.message;
    if (e.kind === 'unavailable' || e.kind === 'rate_limited') reply.header('retry-after', String((e as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1));
    return reply
      .code(e.status)
      .type('text/html; charset=utf-8')
      .send(portalPage(view, TITLES[e.status] ?? 'Something went wrong', html`<div class="card"><h1>${TITLES[e.status] ?? 'Something went wrong'}</h1><p class="alert" role="alert">${message}</p><p><a href="/store">Back to the APIs</a></p></div>`));
  };
}

/**
 * The developer portal on the management listener (9443): the Store (/store, also /), the
 * Publisher (/publisher) and Admin (/admin). Server-rendered pages on the management service:
 * every rule is the service's, and these pages only parse forms, call it and render.
 */
export async function portalRoutes(app: FastifyInstance, opts: { management: Management; settings: PortalSettings }): Promise<void> {
  const m = opts.management;
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 65536 });
  app.setErrorHandler(errorHandler());
  app.setNotFoundHandler(async (request, reply) => {
    request.portal ??= await resolveSession(m, request, reply);
    throw new GatehouseError('not_found', 'There is no page at this address.');
  });
  app.addHook('onRequest', async (request, reply) => {
    request.portal = await resolveSession(m, request, reply);
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(PAGE_HEADERS);
    return payload;
  });
  app.get('/', async (_request, reply) => reply.redirect('/store', 302));
  const kit = new Kit(app, m, opts.settings);
  storePages(kit);
  applicationPages(kit);
  publisherPages(kit);
  await adminPages(kit);
}

import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, GatehouseError, worthLogging } from '../errors.js';
import { toGatehouseError } from '../http/errors.js';
import { FORM } from '../http/form.js';
import type { Management } from '../manage/index.js';
import { Kit, SignInRequired, type PortalSettings } from './kit.js';
import { errorPage, PAGE_HEADERS } from './error-page.js';
import { adminPages } from './pages/admin.js';
import { applicationPages } from './pages/applications.js';
import { publisherPages } from './pages/publisher.js';
import { storePages } from './pages/store.js';
import { resolveSession } from './session.js';

function errorHandler() {
  return async function handle(this: FastifyInstance, err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    if (err instanceof SignInRequired) return reply.redirect(`/store/signin?next=${encodeURIComponent(err.next)}`, 303);
    const e = toGatehouseError(err, { tooLarge: 'The form is too large.', badContentType: `Send the form as ${FORM}.`, badContentTypeStatus: 415 });
    if (worthLogging(e)) request.log.error({ err: describeError(e) }, 'portal page failed');
    const state = request.portal;
    const view = { actor: state?.signIn?.actor, csrf: state?.csrf ?? '', path: request.url.split('?')[0]! };
    const message = e.kind === 'unavailable' ? e.message : e.status >= 500 ? 'Something went wrong on our side. Try again in a moment.' : e.message;
    if (e.kind === 'unavailable' || e.kind === 'rate_limited') reply.header('retry-after', String((e as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1));
    return reply.code(e.status).type('text/html; charset=utf-8').send(errorPage(view, e.status, message));
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

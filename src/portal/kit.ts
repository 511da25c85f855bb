import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError, InvalidInput } from '../errors.js';
import { FORM, type FormBody } from '../http/form.js';
import type { Actor, Management, PageRequest } from '../manage/index.js';
import { everyPage, MAX_LIMIT } from '../manage/page.js';

export { everyPage } from '../manage/page.js';
import { portalPage, type Errors, type View } from './layout.js';
import { checkForm } from './session.js';

/** Where the portal points people: the public token and gateway URLs, and the gateway it tries calls on. */
export interface PortalSettings {
  selfSignUp: boolean;
  /** The HTTPS origin of the token endpoint and the gateway (oauth.issuer). */
  httpsBase: string;
  /** The plain-HTTP origin of the gateway listener (for /revoke, as the original page has it). */
  httpBase(): string;
  /** Where "Try it" sends calls: this node's HTTPS gateway listener on loopback (with the Host of httpsBase). */
  gatewayForTry(): string;
  /** How long a Try it call may take, its whole response included (portal.tryItTimeoutMs). */
  tryItTimeoutMs: number;
}

/** What the next page shows once, after a POST. */
export interface Flash {
  notice?: string;
  /** Secrets just generated (shown once), or a Try it result. */
  data?: Record<string, unknown>;
}

/** A POST's outcome: go somewhere (303) with a one-time notice, or show a page again (a 4xx with the fields marked). */
export type Outcome = { redirect: string; flash?: Flash } | { status: number; page: string; retryAfter?: number };

export interface GetContext {
  request: FastifyRequest;
  reply: FastifyReply;
  view: View;
  flash: Flash;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
}

export interface PostContext extends GetContext {
  form: FormBody;
  /** Aborted when the browser goes away before the answer is sent (a call made for it can stop). */
  browserGone: AbortSignal;
}

const HTML = 'text/html; charset=utf-8';

/**
 * The portal's way to declare pages: a GET renders a page (with the flash of the POST before
 * it); a POST checks the form's origin and CSRF token, calls the service and answers 303 with
 * a flash, or the same page again with what the service said next to the field it concerns.
 */
export class Kit {
  constructor(
    readonly app: FastifyInstance,
    readonly m: Management,
    readonly settings: PortalSettings,
  ) {}

  private async context(request: FastifyRequest, reply: FastifyReply): Promise<GetContext> {
    const state = request.portal!;
    const flash = state.signIn && state.token ? ((await this.m.portalSessions.takeFlash(state.token, state.signIn.sessionId)) as Flash | undefined) : undefined;
    return {
      request,
      reply,
      view: { actor: state.signIn?.actor, csrf: state.csrf, notice: flash?.notice, path: request.url.split('?')[0]! },
      flash: flash ?? {},
      params: request.params as Record<string, string>,
      query: (request.query ?? {}) as Record<string, string | undefined>,
    };
  }

  /** A page; or, when the handler says so, a redirect (e.g. a signed-in user asking for the sign-in page). */
  get(path: string, handler: (c: GetContext) => Promise<string | { redirect: string }> | string | { redirect: string }): void {
    this.app.get(path, async (request, reply) => {
      const out = await handler(await this.context(request, reply));
      return typeof out === 'string' ? reply.type(HTML).send(out) : reply.redirect(out.redirect, 303);
    });
  }

  post(path: string, handler: (c: PostContext) => Promise<Outcome>): void {
    this.app.post(path, async (request, reply) => {
      // a page's form comes urlencoded (multipart where it uploads files), never as JSON or another type the app can parse
      const type = request.headers['content-type'];
      if (type !== undefined && !type.toLowerCase().startsWith(FORM) && !(request.isMultipart?.() ?? false)) {
        throw new GatehouseError('invalid', `Send the form as ${FORM}.`, { detail: 'a page form of another content type', status: 415 });
      }
      const form = (request.body ?? {}) as FormBody;
      checkForm(request, form, request.portal!);
      const c = await this.context(request, reply);
      const gone = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableFinished) gone.abort(new BrowserGone());
      };
      reply.raw.once('close', onClose);
      try {
        return this.finish(request, reply, await handler({ ...c, form, browserGone: gone.signal }));
      } finally {
        reply.raw.off('close', onClose);
      }
    });
  }

  private async finish(request: FastifyRequest, reply: FastifyReply, outcome: Outcome): Promise<FastifyReply> {
    if ('redirect' in outcome) {
      const state = request.portal!;
      if (outcome.flash && state.signIn && state.token) await this.m.portalSessions.setFlash(state.token, state.signIn.sessionId, outcome.flash);
      return reply.redirect(outcome.redirect, 303);
    }
    if (outcome.retryAfter !== undefined) reply.header('retry-after', String(outcome.retryAfter));
    return reply.code(outcome.status).type(HTML).send(outcome.page);
  }

  /** Each configured tier's name with its limit in the service's words (`Gold: 5000 requests per minute`), by name. */
  async tierLabels(actor: Actor): Promise<Map<string, string>> {
    return new Map((await everyPage((page) => this.m.tiers.list(actor, page))).map((t) => [t.name, `${t.name}: ${t.description}`]));
  }

  /** The configured tiers as a signed-in user's form offers them: [name, label]. */
  async tierChoices(view: View): Promise<Array<[name: string, label: string]>> {
    return [...(await this.tierLabels(signedIn(view)))];
  }

  page(view: View, title: string, body: Parameters<typeof portalPage>[2]): string {
    return portalPage(view, title, body);
  }
}

/** The signed-in actor, or a redirect to sign in (as a GatehouseError the error handler turns into one). */
export function signedIn(view: View): Actor {
  if (!view.actor) throw new SignInRequired(view.path);
  return view.actor;
}

/** The browser closed the connection before its answer: nobody sees what is sent now (a 4xx, never logged as a failure). */
export class BrowserGone extends GatehouseError {
  override name = 'BrowserGone';
  constructor() {
    super('invalid', 'The browser closed the connection before the answer.');
  }
}

/** Thrown to send the browser to the sign-in page, coming back here after. */
export class SignInRequired extends GatehouseError {
  override name = 'SignInRequired';
  constructor(readonly next: string) {
    super('unauthenticated', 'Sign in to continue.');
  }
}

/**
 * Runs a service call for a form; a refusal about a field (or any 4xx the service answers)
 * becomes the errors the form shows again, with the service's own words.
 */
/** A refusal of the service as a page shows it: the message by its field, the status, and when to retry (429). */
export async function attempt<T>(run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; errors: Errors; status: number; retryAfter?: number }> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    if (err instanceof GatehouseError && err.status < 500) {
      const retryAfter = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
      return { ok: false, errors: { [err.field ?? '']: err.message }, status: err.status, ...(retryAfter !== undefined ? { retryAfter } : {}) };
    }
    throw err;
  }
}

/** A single string field of a form (undefined when absent, empty, repeated or not text). */
export function text(form: FormBody, name: string): string | undefined {
  const v = form[name];
  // a field sent twice is no answer to read (the API refuses an array where it wants text)
  if (Array.isArray(v)) throw new InvalidInput(name, `the form sent ${name} ${v.length} times: send it once`);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * Lines of a textarea as a list (one URL, origin or audience per line), as typed: blank lines are
 * skipped, nothing is trimmed, so a value with spaces around it gets the service's answer, as
 * from the CLI and the API.
 */
export function lines(form: FormBody, name: string): string[] {
  return (text(form, name) ?? '').split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** A list page's request: the most rows a page may have (200) from the `cursor` of the query (a link from the page before), or from the start. */
export const pageOf = (query: Record<string, string | undefined>): PageRequest => ({ limit: MAX_LIMIT, ...(query.cursor ? { cursor: query.cursor } : {}) });

/** A checkbox is checked when its field is sent, whatever its value (a browser sends the input's value, "on" by default). */
export const isChecked = (form: FormBody, name: string): boolean => form[name] !== undefined;

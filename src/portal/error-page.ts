import { html } from '../http/html.js';
import { hasRole } from '../manage/index.js';
import { PORTAL_CSP, portalPage, type View } from './layout.js';

/** Headers of every portal page: never cached (secrets are shown once), never framed, no referrer, our CSP. */
export const PAGE_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-frame-options': 'DENY',
  'content-security-policy': PORTAL_CSP,
  'x-content-type-options': 'nosniff',
  // The browser names our origin on our own form posts (checked against CSRF), and nothing to other sites.
  'referrer-policy': 'same-origin',
} as const;

const TITLES: Record<number, string> = {
  400: 'That did not work',
  403: 'Not allowed',
  404: 'Not found',
  408: 'Too slow',
  409: 'That did not work',
  413: 'Too large',
  414: 'Address too long',
  415: 'That did not work',
  431: 'Too large',
  503: 'Temporarily unavailable',
};

/** A browser that is not known here (an answer before any session could be read). */
export const ANONYMOUS: View = { actor: undefined, csrf: '', path: '/' };

/** The way back from an error: to the part of the portal the failed page was in, when the viewer may open it. */
function wayBack(view: View): [href: string, label: string] {
  const path = view.path;
  const actor = view.actor;
  if ((path === '/admin' || path.startsWith('/admin/')) && actor !== undefined && hasRole(actor, 'admin')) return ['/admin', 'Back to Admin'];
  if ((path === '/publisher' || path.startsWith('/publisher/')) && actor !== undefined && hasRole(actor, 'publisher')) return ['/publisher', 'Back to the Publisher'];
  return ['/store', 'Back to the APIs'];
}

/** The portal's error page: what went wrong in the public message's words, and the way back. */
export function errorPage(view: View, status: number, message: string): string {
  const title = TITLES[status] ?? 'Something went wrong';
  const [href, label] = wayBack(view);
  return portalPage(view, title, html`<div class="card"><h1>${title}</h1><p class="alert" role="alert">${message}</p><p><a href="${href}">${label}</a></p></div>`);
}

import { contentSecurityPolicy, html, inlineScript, page, type Html, type Part } from '../http/html.js';
import { hasRole, type Actor } from '../manage/index.js';

/**
 * The portal's pages: one layout (the product's stylesheet, a header with the sections the
 * user's role opens), form fields with their label, hint and error next to them, and copyable
 * blocks. Pages work without JavaScript; the one small script only adds copy buttons.
 */

/** Adds a "Copy" button after every element marked data-copy (progressive enhancement). */
const COPY_SCRIPT = inlineScript(
  "document.querySelectorAll('[data-copy]').forEach(function(el){var b=document.createElement('button');b.type='button';b.className='secondary small copy';" +
    "var label='Copy '+el.getAttribute('data-copy');b.textContent=label;b.setAttribute('aria-label',label);b.addEventListener('click',function(){" +
    "navigator.clipboard.writeText(el.textContent.trim()).then(function(){b.textContent='Copied'},function(){b.textContent='Select the text and copy it'})});" +
    "el.insertAdjacentElement('afterend',b)});",
);

export const PORTAL_CSP = contentSecurityPolicy(COPY_SCRIPT.hash);

/** What every page needs to know about the request. */
export interface View {
  actor: Actor | undefined;
  /** The CSRF token every form carries. */
  csrf: string;
  /** A one-time notice (after a POST). */
  notice?: string | undefined;
  /** Where the request is (for the navigation's current item). */
  path: string;
}

/** Errors by field name; `''` for an error that is not about one field. */
export type Errors = Record<string, string>;

function header(v: View): Html {
  const items: Array<[string, string]> = [['/store', 'APIs']];
  if (v.actor) {
    items.push(['/store/applications', 'My Applications'], ['/store/subscriptions', 'My Subscriptions']);
    if (hasRole(v.actor, 'publisher')) items.push(['/publisher', 'Publisher']);
    if (hasRole(v.actor, 'admin')) items.push(['/admin', 'Admin']);
  }
  const current = (href: string) => (v.path === href || (href !== '/store' && v.path.startsWith(`${href}/`)) ? html` aria-current="page"` : '');
  return html`<header class="top"><div class="bar">
<a class="home" href="/store">Gatehouse</a>
<nav aria-label="Sections"><ul>${items.map(([href, label]) => html`<li><a href="${href}"${current(href)}>${label}</a></li>`)}</ul></nav>
<div class="who">${
    v.actor
      ? html`<span>Signed in as <strong>${v.actor.username}</strong> (${v.actor.role})</span>
<form class="inline" method="post" action="/store/signout">${csrfInput(v.csrf)}<button type="submit">Sign out</button></form>`
      : html`<a href="/store/signin">Sign in</a>`
  }</div>
</div></header>`;
}

/** A whole portal page. */
export function portalPage(v: View, title: string, body: Html): string {
  const notice = v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : '';
  // same-origin: the browser names this origin on the portal's own form posts (the CSRF check reads it), and nothing elsewhere.
  return page(title, html`${notice}${body}`, { wide: true, header: header(v), script: COPY_SCRIPT.tag, referrer: 'same-origin' });
}

export const csrfInput = (csrf: string): Html => html`<input type="hidden" name="csrf" value="${csrf}">`;

/** A form field with its label, hint and error; the error is linked to the control for screen readers. */
export function field(opts: {
  name: string;
  label: string;
  value?: string | undefined;
  type?: 'text' | 'password' | 'url' | 'number';
  errors?: Errors | undefined;
  hint?: string;
  required?: boolean;
  autocomplete?: string;
  textarea?: boolean;
  id?: string;
  /** The id of a message elsewhere on the page that describes the field (a form-wide refusal). */
  describedBy?: string;
}): Html {
  const id = opts.id ?? `f-${opts.name}`;
  // a blank error marks the field without words under it (the words are elsewhere: describedBy)
  const marked = opts.errors?.[opts.name] !== undefined;
  const error = opts.errors?.[opts.name]?.trim() || undefined;
  const describedBy = [opts.hint ? `${id}-hint` : '', error ? `${id}-error` : '', opts.describedBy ?? ''].filter(Boolean).join(' ');
  const common = html`id="${id}" name="${opts.name}"${opts.required ? html` required` : ''}${marked ? html` aria-invalid="true"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}${opts.autocomplete ? html` autocomplete="${opts.autocomplete}"` : ''}`;
  const control = opts.textarea
    ? html`<textarea ${common}>${opts.value ?? ''}</textarea>`
    : html`<input type="${opts.type ?? 'text'}" ${common} value="${opts.value ?? ''}"${opts.type === 'text' || opts.type === undefined ? html` spellcheck="false" autocapitalize="none"` : ''}>`;
  return html`<label for="${id}">${opts.label}</label>${control}${opts.hint ? html`<p class="hint" id="${id}-hint">${opts.hint}</p>` : ''}${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}`;
}

export function select(opts: { name: string; label: string; options: Array<[value: string, label: string]>; value?: string | undefined; errors?: Errors | undefined; id?: string }): Html {
  const id = opts.id ?? `f-${opts.name}`;
  const error = opts.errors?.[opts.name];
  return html`<label for="${id}">${opts.label}</label>
<select id="${id}" name="${opts.name}"${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>${opts.options.map(
    ([value, label]) => html`<option value="${value}"${value === opts.value ? html` selected` : ''}>${label}</option>`,
  )}</select>${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}`;
}

export function checkbox(opts: { name: string; label: string; checked?: boolean; id?: string; value?: string }): Html {
  const id = opts.id ?? `f-${opts.name}`;
  return html`<div class="check"><input type="checkbox" id="${id}" name="${opts.name}" value="${opts.value ?? '1'}"${opts.checked ? html` checked` : ''}><label for="${id}">${opts.label}</label></div>`;
}

/** An error that is not about one field (or about one the form does not show). */
export function formError(errors: Errors | undefined, shown: string[]): Html | '' {
  if (!errors) return '';
  const rest = Object.entries(errors).filter(([k]) => !shown.includes(k)).map(([, v]) => v);
  return rest.length === 0 ? '' : html`<p class="alert" role="alert">${rest.join(' ')}</p>`;
}

/** A block of text with a Copy button (added by the script), labelled for what it holds. */
export function copyable(label: string, text: string, id: string): Html {
  return html`<pre id="${id}" data-copy="${label}" aria-label="${label}"><code>${text}</code></pre>`;
}

/** A POST button in its own small form (publish, block, remove…). */
export function actionButton(v: View, action: string, label: string, opts: { danger?: boolean; secondary?: boolean; fields?: Record<string, string> } = {}): Html {
  const cls = opts.danger ? 'danger small' : opts.secondary ? 'secondary small' : 'small';
  return html`<form class="inline" method="post" action="${action}">${csrfInput(v.csrf)}${Object.entries(opts.fields ?? {}).map(
    ([k, val]) => html`<input type="hidden" name="${k}" value="${val}">`,
  )}<button type="submit" class="${cls}">${label}</button></form>`;
}

/** The link to a list's next page (`path?cursor=…`), or nothing on its last page. */
export const nextPageLink = (path: string, next: string | null): Html | '' => (next ? html`<p><a href="${path}?cursor=${next}">Next page</a></p>` : '');

export const badge = (text: string, tone: 'ok' | 'warn' | 'bad' | '' = ''): Html => html`<span class="badge ${tone}">${text}</span>`;

export const statusBadge = (status: string): Html =>
  badge(status, status === 'PUBLISHED' || status === 'ACTIVE' ? 'ok' : status === 'BLOCKED' || status === 'RETIRED' ? 'bad' : 'warn');

export type { Part };

import { contentSecurityPolicy, html, page as layout, type Html } from '../../http/html.js';
import type { Role } from '../../store/users.js';
import { MANAGE_SCOPE } from '../scope.js';

export { escapeHtml, html, STYLE_HASH } from '../../http/html.js';

/** The Content-Security-Policy of every sign-in page: nothing but our inline style, no script at all, never framed. */
export const CSP = contentSecurityPolicy();

/**
 * The policy of a login or consent page: its form's answer redirects to the client's
 * redirect URI, so that origin (or, for an app's own scheme, the scheme) joins form-action.
 */
export function cspFor(redirectUri: string): string {
  try {
    const u = new URL(redirectUri);
    const target = u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : u.protocol;
    // Only characters a CSP source may hold (a URL's origin and scheme always are).
    return /^[A-Za-z0-9+.:/\[\]-]+$/.test(target) ? contentSecurityPolicy(undefined, [target]) : CSP;
  } catch {
    return CSP;
  }
}

/** A sign-in page: the product's layout with the content in one card. */
export const page = (title: string, body: Html): string => layout(title, html`<div class="card">${body}</div>`);

/** What each scope with a meaning here lets the application do, in the user's words. */
const SCOPE_TEXT = new Map<string, string>([
  ['default', 'Use the APIs you are subscribed to on your behalf'],
  ['PRODUCTION', 'Production access'],
  ['SANDBOX', 'Sandbox (test) access'],
]);

/** Any other scope: Gatehouse gives it no meaning, so the page says so rather than showing a bare word. */
export const OTHER_SCOPE_TEXT = 'A permission Gatehouse does not define: the APIs that check it decide what it allows';

/**
 * What `manage` hands over: the admin API as the user, within their role (the README's roles
 * table); worded for the signed-in user's role, the most powerful wording when it is unknown.
 */
export function manageScopeText(role: Role | undefined): string {
  switch (role) {
    case 'subscriber':
      return 'Manage your Gatehouse account as you: change your password, and create, change and delete your applications, their keys, tokens and subscriptions';
    case 'publisher':
      return "Manage Gatehouse as you: every API (create, change, publish, retire, delete) and every subscription to it, your own applications, and your password — a publisher's full power";
    default:
      return "Manage Gatehouse as you: every user, application and API — an administrator's full power";
  }
}

const scopeText = (scope: string, role: Role | undefined): string => (scope === MANAGE_SCOPE ? manageScopeText(role) : (SCOPE_TEXT.get(scope) ?? OTHER_SCOPE_TEXT));

export function loginPage(v: { applicationName: string; requestId: string; csrf: string; failed: boolean; username?: string }): string {
  return page(
    'Sign in',
    html`<h1>Sign in</h1>
<p>to continue to <strong>${v.applicationName}</strong></p>
${v.failed && html`<p class="alert" role="alert">Invalid username or password, or the account is temporarily locked.</p>`}
<form method="post" action="/authorize/login">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="request" value="${v.requestId}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${v.username ?? ''}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

/**
 * The consent page. `remember: false` (public clients) leaves out "Remember my decision": a
 * client that cannot authenticate always gets this page (RFC 6749 §10.2, RFC 8252 §8.6).
 */
export function consentPage(v: {
  applicationName: string;
  username: string;
  /** The signed-in user's role (undefined: not known), for the words of `manage`. */
  role?: Role | undefined;
  scope: string[];
  destination: string;
  requestId: string;
  csrf: string;
  remember?: boolean;
}): string {
  const manage = v.scope.includes(MANAGE_SCOPE);
  return page(
    'Authorize application',
    html`<h1>Allow <strong>${v.applicationName}</strong> to access your account?</h1>
<p class="muted">Signed in as <strong>${v.username}</strong></p>
${manage && html`<div class="alert" role="alert" id="manage-warning"><p><strong>Warning: ${v.applicationName} asks to act as you in Gatehouse itself.</strong></p>
<p>${manageScopeText(v.role)}.</p>
<p>Approve only if you trust ${v.applicationName} with that as much as with your password.</p></div>`}
<p>The application asks for:</p>
<ul class="scopes">
${v.scope.map((s) => html`<li><code>${s}</code> – ${s === MANAGE_SCOPE ? html`<strong>${scopeText(s, v.role)}</strong>` : scopeText(s, v.role)}</li>\n`)}
</ul>
<p class="muted">Whatever you choose, you will be sent back to ${v.destination}</p>
<form method="post" action="/authorize/consent">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="request" value="${v.requestId}">
${v.remember !== false && html`<div class="check"><input type="checkbox" id="remember" name="remember" value="1"><label for="remember">Remember my decision for this application</label></div>`}
<div class="buttons">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="approve"${manage && html` class="danger"`}>Approve</button>
</div>
</form>`,
  );
}

export function errorPage(title: string, detail: string): string {
  return page(title, html`<h1>${title}</h1><p>${detail}</p><p class="muted">Return to the application and start again. If this keeps happening, tell the application's developer.</p>`);
}

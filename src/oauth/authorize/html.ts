import { createHash } from 'node:crypto';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tagged template: every interpolated value is escaped unless it is already `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = string | number | Html | undefined | null | false | readonly Part[];

function render(part: Part): string {
  if (part === undefined || part === null || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

const PRODUCT = 'Gatehouse';

/** One small stylesheet, inline and allowed by its hash: no external requests, no script at all. */
const CSS = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f3f5f8;color:#1b1f24;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:26rem;margin:0 auto;padding:1.5rem 1rem}
.brand{font-weight:700;font-size:1.1rem;letter-spacing:.02em;color:#24466b;margin:0 0 1rem}
.card{background:#fff;border:1px solid #d8dee6;border-radius:10px;padding:1.25rem 1.25rem 1.5rem}
h1{font-size:1.35rem;line-height:1.3;margin:0 0 .75rem}
p{margin:.5rem 0}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
input[type=text],input[type=password]{width:100%;font-size:1rem;padding:.65rem .75rem;border:1px solid #aab4c0;border-radius:6px}
input:focus,button:focus{outline:3px solid #8bb8ff;outline-offset:1px}
.check{display:flex;gap:.5rem;align-items:flex-start;margin:1rem 0}
.check label{display:inline;font-weight:400;margin:0}
.check input{margin-top:.3rem;width:1.1rem;height:1.1rem}
button{font-size:1rem;font-weight:600;padding:.7rem 1rem;border-radius:6px;border:1px solid #24466b;background:#24466b;color:#fff;cursor:pointer;width:100%;margin-top:1rem}
button.secondary{background:#fff;color:#24466b}
.buttons{display:flex;gap:.75rem}
.buttons button{flex:1}
ul.scopes{padding-left:1.2rem;margin:.5rem 0}
code{background:#eef1f5;padding:.05rem .3rem;border-radius:4px;word-break:break-all}
.alert{background:#fdecec;border:1px solid #e7a3a3;color:#7a1c1c;border-radius:6px;padding:.6rem .75rem}
.muted{color:#5a6573;font-size:.9rem;word-break:break-word}
`;

export const STYLE_HASH = `sha256-${createHash('sha256').update(CSS, 'utf8').digest('base64')}`;

/** The Content-Security-Policy of every page: nothing but our inline style, never framed. */
export const CSP = `default-src 'none'; style-src '${STYLE_HASH}'; base-uri 'none'; frame-ancestors 'none'`;

export function page(title: string, body: Html): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · ${PRODUCT}</title>
<style>${CSS}</style>
</head><body><main>
<p class="brand">${PRODUCT}</p>
<div class="card">
${body.value}
</div>
</main></body></html>
`;
}

const SCOPE_TEXT: Record<string, string> = {
  default: 'Use the APIs you are subscribed to on your behalf',
  PRODUCTION: 'Production access',
  SANDBOX: 'Sandbox (test) access',
};

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
export function consentPage(v: { applicationName: string; username: string; scope: string[]; destination: string; requestId: string; csrf: string; remember?: boolean }): string {
  return page(
    'Authorize application',
    html`<h1>Allow <strong>${v.applicationName}</strong> to access your account?</h1>
<p class="muted">Signed in as <strong>${v.username}</strong></p>
<p>The application asks for:</p>
<ul class="scopes">
${v.scope.map((s) => html`<li><code>${s}</code>${SCOPE_TEXT[s] !== undefined && html` – ${SCOPE_TEXT[s]}`}</li>\n`)}
</ul>
<p class="muted">Whatever you choose, you will be sent back to ${v.destination}</p>
<form method="post" action="/authorize/consent">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="request" value="${v.requestId}">
${v.remember !== false && html`<div class="check"><input type="checkbox" id="remember" name="remember" value="1"><label for="remember">Remember my decision for this application</label></div>`}
<div class="buttons">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="approve">Approve</button>
</div>
</form>`,
  );
}

export function errorPage(title: string, detail: string): string {
  return page(title, html`<h1>${title}</h1><p>${detail}</p><p class="muted">Return to the application and start again. If this keeps happening, tell the application's developer.</p>`);
}

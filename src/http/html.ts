import { createHash } from 'node:crypto';

/**
 * Server-rendered HTML for every page Gatehouse serves (the sign-in and consent pages of
 * /authorize, the developer portal): a tagged template that escapes every value it is given,
 * one stylesheet, one layout, and the Content-Security-Policy that allows exactly them.
 */

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Markup that is already safe (built by `html`), inserted as it is. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Part = string | number | Html | undefined | null | false | readonly Part[];

function render(part: Part): string {
  if (part === undefined || part === null || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

/** Tagged template: every interpolated value is escaped unless it is already `Html`. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

export const PRODUCT = 'Gatehouse';

/** The one stylesheet, inline and allowed by its hash: no external requests. */
const CSS = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f3f5f8;color:#1b1f24;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:26rem;margin:0 auto;padding:1.5rem 1rem}
main.wide{max-width:64rem}
.brand{font-weight:700;font-size:1.1rem;letter-spacing:.02em;color:#24466b;margin:0 0 1rem}
.card{background:#fff;border:1px solid #d8dee6;border-radius:10px;padding:1.25rem 1.25rem 1.5rem;margin:0 0 1.25rem}
h1{font-size:1.35rem;line-height:1.3;margin:0 0 .75rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:0 0 .6rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
p{margin:.5rem 0}
a{color:#1d4f91}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
input[type=text],input[type=password],input[type=url],input[type=number],select,textarea{width:100%;font:inherit;padding:.6rem .7rem;border:1px solid #8391a1;border-radius:6px;background:#fff;color:#1b1f24}
textarea{min-height:6rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9rem}
input:focus,button:focus,select:focus,textarea:focus,a:focus{outline:3px solid #8bb8ff;outline-offset:1px}
input[aria-invalid=true],select[aria-invalid=true],textarea[aria-invalid=true]{border-color:#b3261e;border-width:2px}
.hint{color:#4d5866;font-size:.9rem;margin:.25rem 0 0}
.field-error{color:#b3261e;font-weight:600;font-size:.95rem;margin:.3rem 0 0}
.check{display:flex;gap:.5rem;align-items:flex-start;margin:1rem 0}
.check label{display:inline;font-weight:400;margin:0}
.check input{margin-top:.3rem;width:1.1rem;height:1.1rem}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.6rem 1rem;border-radius:6px;border:1px solid #24466b;background:#24466b;color:#fff;cursor:pointer;text-decoration:none;margin-top:1rem}
main:not(.wide) button{width:100%}
button.secondary,.button.secondary{background:#fff;color:#24466b}
button.danger{background:#9b1c1c;border-color:#9b1c1c}
button.small,.button.small{padding:.3rem .6rem;font-size:.9rem;margin:0}
fieldset{border:1px solid #d8dee6;border-radius:6px;margin:1rem 0 0;padding:.25rem .75rem .5rem}
legend{font-weight:600;padding:0 .3rem}
fieldset .check{margin:.5rem 0}
.buttons{display:flex;gap:.75rem;flex-wrap:wrap;align-items:center}
.buttons button{flex:1}
main.wide .buttons button{flex:0 0 auto}
form.inline{display:inline}
ul.scopes{padding-left:1.2rem;margin:.5rem 0}
code{background:#eef1f5;padding:.05rem .3rem;border-radius:4px;word-break:break-all}
pre{background:#1f2933;color:#f5f7fa;padding:.75rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:.9rem;margin:.3rem 0}
pre code{background:none;padding:0;color:inherit}
.alert{background:#fdecec;border:1px solid #e7a3a3;color:#7a1c1c;border-radius:6px;padding:.6rem .75rem;overflow-wrap:anywhere}
.notice{background:#eaf4ea;border:1px solid #9cc79c;color:#1e4620;border-radius:6px;padding:.6rem .75rem;overflow-wrap:anywhere}
.secret{background:#fff8e1;border:1px solid #e0c068;border-radius:6px;padding:.75rem;margin:.75rem 0}
.muted{color:#4d5866;font-size:.9rem;word-break:break-word}
.skip{position:absolute;left:-999px}
.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:2}
header.top{background:#24466b;color:#fff}
header.top .bar{max-width:64rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center}
header.top a{color:#fff}
header.top .home{font-weight:700;text-decoration:none;font-size:1.1rem}
header.top nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header.top .who{margin-left:auto;display:flex;flex-wrap:wrap;gap:.5rem .75rem;align-items:center;min-width:0;max-width:100%}
header.top .who span{overflow-wrap:anywhere;min-width:0}
header.top button{margin:0;background:transparent;border-color:#fff;padding:.25rem .6rem}
table{width:100%;border-collapse:collapse;margin:.5rem 0}
th,td{text-align:left;padding:.5rem .4rem;border-bottom:1px solid #d8dee6;vertical-align:top;overflow-wrap:anywhere}
td.short{overflow-wrap:normal;white-space:nowrap}
th{font-size:.9rem;color:#37414d}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.8rem;font-weight:600;background:#e3e8ef;color:#1b2a3d}
.badge.ok{background:#dff3e4;color:#14532d}
.badge.warn{background:#fdecc8;color:#6a3c00}
.badge.bad{background:#fde2e1;color:#7a1c1c}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:.5rem 0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;word-break:break-word;min-width:0;overflow-wrap:anywhere}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.25rem}
.copy{margin:.25rem 0 0}
@media (max-width:40rem){
  .grid{grid-template-columns:1fr}
  table.stack thead{position:absolute;left:-999px}
  table.stack tr{display:block;border-bottom:1px solid #d8dee6;padding:.4rem 0}
  table.stack td{display:block;border:0;padding:.15rem 0}
  table.stack td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
  dl.facts{grid-template-columns:1fr}
  header.top .who{margin-left:0}
}
`;

const hash = (text: string) => `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;

export const STYLE_HASH = hash(CSS);

/**
 * The Content-Security-Policy of a page: our inline style (and script, by its hash), nothing
 * else, never framed. Forms post to this origin only, and to `formTargets` (sources such as
 * an origin or `scheme:`) where a form's answer redirects (browsers apply form-action to it).
 */
export function contentSecurityPolicy(scriptHash?: string, formTargets: readonly string[] = []): string {
  const script = scriptHash === undefined ? '' : ` script-src '${scriptHash}';`;
  const targets = formTargets.map((t) => ` ${t}`).join('');
  return `default-src 'none'; style-src '${STYLE_HASH}';${script} img-src 'self' data:; form-action 'self'${targets}; base-uri 'none'; frame-ancestors 'none'`;
}

/** An inline script with its CSP hash. */
export function inlineScript(source: string): { tag: string; hash: string } {
  return { tag: `<script>${source}</script>`, hash: hash(source) };
}

/** A whole page: the layout around `body`, with an optional header above the main content. */
export function page(title: string, body: Html, opts: { wide?: boolean; header?: Html; script?: string; referrer?: 'no-referrer' | 'same-origin' } = {}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="${opts.referrer ?? 'no-referrer'}">
<title>${escapeHtml(title)} · ${PRODUCT}</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head><body>
<a class="skip" href="#main">Skip to content</a>
${opts.header?.value ?? ''}
<main id="main"${opts.wide ? ' class="wide"' : ''}>
${opts.header ? '' : `<p class="brand">${PRODUCT}</p>`}
${body.value}
</main>${opts.script ?? ''}</body></html>
`;
}

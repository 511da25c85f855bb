import { Agent, request } from 'undici';
import { InvalidInput } from '../errors.js';
import type { FormBody } from '../http/form.js';
import { html, type Html } from '../http/html.js';
import type { Actor, ApiView, ApplicationView, Management } from '../manage/index.js';
import { text, type PortalSettings } from './kit.js';
import { csrfInput, field, formError, select, type Errors, type View } from './layout.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const MAX_BODY_SENT = 16 * 1024;
const MAX_BODY_SHOWN = 64 * 1024;
/** Calls to this node's own HTTPS listener (when plain HTTP is off) trust its certificate: it is on loopback. */
const loopbackTls = new Agent({ connect: { rejectUnauthorized: false } });

/** A Try it call gets an application token of its own, for one minute. */
const TRY_TOKEN_SECONDS = 60;

export interface TryItResult {
  method: string;
  url: string;
  status: number;
  headers: Array<[string, string]>;
  body: string;
  truncated: boolean;
  ms: number;
}

/** What the form last sent, so that it comes back filled in (after an error or with the response). */
export type TryItValues = Partial<Record<'applicationId' | 'keyType' | 'method' | 'path' | 'body', string>>;

export function tryItValues(form: FormBody): TryItValues {
  const out: TryItValues = {};
  for (const k of ['applicationId', 'keyType', 'method', 'path', 'body'] as const) {
    const v = text(form, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function tryItForm(view: View, api: ApiView, apps: ApplicationView[], errors?: Errors, values: TryItValues = {}): Html {
  return html`<p>Sends one call through the gateway with an application token of the application you choose (valid for a minute).</p>
<form method="post" action="/store/apis/${api.id}/try">${csrfInput(view.csrf)}
${formError(errors, ['applicationId', 'keyType', 'method', 'path', 'body'])}
<div class="grid"><div>${select({ name: 'applicationId', label: 'Application', options: apps.map((a) => [a.id, a.name]), value: values.applicationId, errors, id: 'try-app' })}</div>
<div>${select({ name: 'keyType', label: 'Key type', options: [['PRODUCTION', 'PRODUCTION'], ...(api.sandboxUrl ? ([['SANDBOX', 'SANDBOX']] as Array<[string, string]>) : [])], value: values.keyType, errors, id: 'try-key' })}</div></div>
<div class="grid"><div>${select({ name: 'method', label: 'Method', options: METHODS.map((m) => [m, m]), value: values.method, errors, id: 'try-method' })}</div>
<div>${field({ name: 'path', label: `Path after ${api.context}/${api.version}`, value: values.path ?? '/', errors, id: 'try-path', hint: 'For example /forecast?city=Colombo' })}</div></div>
${field({ name: 'body', label: 'Request body (for POST, PUT, PATCH)', textarea: true, value: values.body, errors, id: 'try-body' })}
<button type="submit">Send</button></form>`;
}

export function tryItResult(data: Record<string, unknown> | undefined): Html {
  const r = data?.tryIt as TryItResult | undefined;
  if (!r) return html``;
  return html`<section id="try-result" aria-labelledby="try-result-h"><h3 id="try-result-h">Response</h3>
<p><code>${r.method} ${r.url}</code> → <strong>${r.status}</strong> in ${r.ms} ms</p>
<h3>Headers</h3><pre><code>${r.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}</code></pre>
<h3>Body</h3><pre><code>${r.body}${r.truncated ? '\n… (cut at 64 KiB)' : ''}</code></pre></section>`;
}

/** Sends the form's call through this node's gateway and describes what came back. */
export async function runTryIt(m: Management, settings: PortalSettings, actor: Actor, api: ApiView, form: FormBody): Promise<TryItResult> {
  const method = text(form, 'method') ?? 'GET';
  if (!(METHODS as readonly string[]).includes(method)) throw new InvalidInput('method', `choose one of ${METHODS.join(', ')}`);
  const path = text(form, 'path') ?? '/';
  if (!path.startsWith('/') || path.length > 1000 || /[\s#\\]/.test(path) || /(^|\/)\.\.?(\/|$|\?)/.test(path)) {
    throw new InvalidInput('path', 'the path must start with / and may not contain spaces, #, \\ or . and .. segments');
  }
  const body = text(form, 'body');
  if (body !== undefined && Buffer.byteLength(body) > MAX_BODY_SENT) throw new InvalidInput('body', 'the body may be at most 16 KiB');
  const token = await m.keys.issueAccessToken(actor, text(form, 'applicationId') ?? '', text(form, 'keyType') ?? 'PRODUCTION', TRY_TOKEN_SECONDS);
  const target = `${api.context}/${api.version}${path}`;
  const started = Date.now();
  const base = settings.gatewayForTry();
  const res = await request(`${base}${target}`, {
    ...(base.startsWith('https:') ? { dispatcher: loopbackTls } : {}),
    method: method as 'GET',
    headers: { authorization: `Bearer ${token.accessToken}`, ...(body !== undefined && method !== 'GET' ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined && method !== 'GET' && method !== 'DELETE' ? { body } : {}),
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    if (size + b.length > MAX_BODY_SHOWN) {
      chunks.push(b.subarray(0, MAX_BODY_SHOWN - size));
      truncated = true;
      res.body.destroy();
      break;
    }
    chunks.push(b);
    size += b.length;
  }
  const headers = Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)] as [string, string]);
  return { method, url: `${settings.httpsBase}${target}`, status: res.statusCode, headers, body: Buffer.concat(chunks).toString('utf8'), truncated, ms: Date.now() - started };
}

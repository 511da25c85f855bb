import { Agent, request, type Dispatcher } from 'undici';
import { InvalidInput } from '../errors.js';
import type { FormBody } from '../http/form.js';
import { html, type Html } from '../http/html.js';
import type { Actor, ApiView, ApplicationView, Management } from '../manage/index.js';
import type { Logger } from '../log.js';
import { BrowserGone, text, type PortalSettings } from './kit.js';
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
  /** Why the response shown is not a whole one (no answer in time, cut short); absent when it is. */
  note?: string;
}

/** What the form last sent, so that it comes back filled in (after an error or with the response). */
export type TryItValues = Partial<Record<'applicationId' | 'keyType' | 'method' | 'path' | 'body', string>>;

export function tryItValues(form: FormBody): TryItValues {
  const out: TryItValues = {};
  // what to show again in the form: a field sent twice (refused by runTryIt, the field marked) shows empty
  for (const k of ['applicationId', 'keyType', 'method', 'path', 'body'] as const) {
    const v = form[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
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
${r.note ? html`<p class="alert" role="alert">${r.note}</p>` : ''}
<h3>Headers</h3><pre><code>${r.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}</code></pre>
<h3>Body</h3><pre><code>${r.body}${r.truncated ? '\n… (cut at 64 KiB)' : ''}</code></pre></section>`;
}

/** How a Try it call ended when it did not end with a whole response: the page says so in these words. */
export function tryItNotes(limitMs: number) {
  const seconds = `${Math.round(limitMs / 100) / 10} s`;
  return {
    noAnswer: `The API did not answer within ${seconds}: Try it stopped waiting (504 Gateway Timeout).`,
    unfinished: `The response did not finish within ${seconds}: Try it stopped reading, and the body is cut where it stopped.`,
    failed: (code: string) => `The call could not be completed: the connection to the gateway failed (${code}).`,
    cut: 'The connection closed before the response finished: the body is cut where it stopped.',
  };
}

const codeOf = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'error';
};

/**
 * Sends the form's call through this node's gateway and describes what came back. The whole
 * call, its body included, has `settings.tryItTimeoutMs`; the body is read up to 64 KiB; a
 * browser that goes away (`browserGone`) stops the call at once (and the gateway then drops
 * its backend call). A call that does not finish is a result the page shows (504 when no
 * answer came), never an error of the portal's.
 */
export async function runTryIt(
  m: Management,
  settings: PortalSettings,
  actor: Actor,
  api: ApiView,
  form: FormBody,
  opts: { browserGone?: AbortSignal; log?: Pick<Logger, 'warn'> } = {},
): Promise<TryItResult> {
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
  const limitMs = settings.tryItTimeoutMs;
  const notes = tryItNotes(limitMs);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error('Try it deadline')), limitMs);
  const signal = opts.browserGone ? AbortSignal.any([deadline.signal, opts.browserGone]) : deadline.signal;
  const started = Date.now();
  const shown = { method, url: `${settings.httpsBase}${target}` };
  const elapsed = () => Date.now() - started;
  /** The browser left: nothing is shown to anyone, the call is simply dropped. */
  const gone = () => {
    if (opts.browserGone?.aborted) throw new BrowserGone();
  };
  try {
    const base = settings.gatewayForTry();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${base}${target}`, {
        ...(base.startsWith('https:') ? { dispatcher: loopbackTls } : {}),
        method: method as 'GET',
        // The Host of the URL shown, so the backend sees X-Forwarded-Host/-Proto as for a client calling it.
        headers: { host: new URL(settings.httpsBase).host, authorization: `Bearer ${token.accessToken}`, ...(body !== undefined && method !== 'GET' ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined && method !== 'GET' && method !== 'DELETE' ? { body } : {}),
        signal,
        // the deadline above is the limit; these only back it up
        headersTimeout: limitMs + 1000,
        bodyTimeout: limitMs + 1000,
      });
    } catch (err) {
      gone();
      if (deadline.signal.aborted) return { ...shown, status: 504, headers: [], body: '', truncated: false, ms: elapsed(), note: notes.noAnswer };
      opts.log?.warn({ event: 'try_it_failed', code: codeOf(err) }, 'try it: the call to this node\'s gateway failed');
      return { ...shown, status: 502, headers: [], body: '', truncated: false, ms: elapsed(), note: notes.failed(codeOf(err)) };
    }
    const headers = Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)] as [string, string]);
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let note: string | undefined;
    try {
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        if (size + b.length > MAX_BODY_SHOWN) {
          chunks.push(b.subarray(0, MAX_BODY_SHOWN - size));
          truncated = true;
          break;
        }
        chunks.push(b);
        size += b.length;
      }
    } catch {
      gone();
      note = deadline.signal.aborted ? notes.unfinished : notes.cut;
    } finally {
      // the rest is not read: the connection to the gateway is closed, and with it the backend call
      if (!res.body.destroyed) res.body.destroy();
    }
    return { ...shown, status: res.statusCode, headers, body: Buffer.concat(chunks).toString('utf8'), truncated, ms: elapsed(), ...(note ? { note } : {}) };
  } finally {
    clearTimeout(timer);
  }
}

import { createHash, randomBytes } from 'node:crypto';
import type { Agent } from 'undici';
import { call, type Reply } from './http.js';

/** A minimal cookie-keeping HTTP agent that does not follow redirects: a browser without JavaScript. */
export class FormAgent {
  readonly cookies = new Map<string, string>();
  /** `dispatcher`: connect from another loopback address (see fromAddress). */
  constructor(
    readonly base: string,
    private readonly dispatcher?: Agent,
  ) {}

  private url(pathOrUrl: string): string {
    return pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
  }

  private keep(r: Reply): Reply {
    const set = r.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return r;
  }

  private headers(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }

  async get(pathOrUrl: string): Promise<Reply> {
    return this.keep(await call(this.url(pathOrUrl), { method: 'GET', headers: this.headers(), ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}) }));
  }

  /** A form POST; a field given a list is sent once per value, as repeated inputs are. */
  async post(pathOrUrl: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Reply> {
    return this.keep(
      await call(this.url(pathOrUrl), {
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.headers(), ...headers },
        body: new URLSearchParams(Object.entries(form).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))).toString(),
      }),
    );
  }
}

export const hidden = (html: string, name: string): string => {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no hidden field ${name} in page`);
  return m[1]!;
};

export const location = (r: Reply): string => {
  const l = r.headers.location;
  if (typeof l !== 'string') throw new Error(`expected a redirect, got ${r.status}: ${r.text.slice(0, 300)}`);
  return l;
};

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(base: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, v);
  return `${base}/authorize?${q}`;
}

/**
 * Walks /authorize → login form → consent form like a browser without JavaScript and returns
 * the final redirect to the client (its Location). Reuses the agent's session when signed in.
 */
export async function authorizeViaForms(
  agent: FormAgent,
  url: string,
  opts: { username?: string; password?: string; decision?: 'approve' | 'deny'; remember?: boolean } = {},
): Promise<string> {
  let r = await agent.get(url);
  let next = location(r);
  if (next.startsWith('/authorize/login')) {
    const page = await agent.get(next);
    if (page.status !== 200) throw new Error(`login page: ${page.status} ${page.text.slice(0, 300)}`);
    r = await agent.post('/authorize/login', {
      csrf: hidden(page.text, 'csrf'),
      request: hidden(page.text, 'request'),
      username: opts.username ?? 'alice',
      password: opts.password ?? 'correct horse',
    });
    next = location(r);
  }
  if (next.startsWith('/authorize/consent')) {
    const page = await agent.get(next);
    if (page.status !== 200) throw new Error(`consent page: ${page.status} ${page.text.slice(0, 300)}`);
    const form: Record<string, string> = { csrf: hidden(page.text, 'csrf'), request: hidden(page.text, 'request'), decision: opts.decision ?? 'approve' };
    if (opts.remember) form.remember = '1';
    r = await agent.post('/authorize/consent', form);
    next = location(r);
  }
  return next;
}

/** The query parameters of a redirect to the client. */
export const callbackParams = (loc: string): Record<string, string> => Object.fromEntries(new URL(loc).searchParams);

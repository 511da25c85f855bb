import { Agent, request } from 'undici';

/** Trusts the self-signed certificate a test server generates. */
export const insecure = new Agent({ connect: { rejectUnauthorized: false } });

const sources = new Map<string, Agent>();
/** An agent whose connections come from another loopback address (127.0.0.2, …): another client. */
export function fromAddress(localAddress: string): Agent {
  let a = sources.get(localAddress);
  if (!a) sources.set(localAddress, (a = new Agent({ localAddress, connect: { rejectUnauthorized: false } })));
  return a;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; dispatcher?: Agent } = {},
): Promise<Reply> {
  const res = await request(url, {
    method: (init.method ?? (init.body !== undefined ? 'POST' : 'GET')) as 'GET',
    headers: init.headers,
    body: init.body,
    dispatcher: init.dispatcher ?? insecure,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers as Reply['headers'], text, json };
}

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** POSTs an application/x-www-form-urlencoded body. */
export function postForm(url: string, params: Record<string, string>, headers: Record<string, string> = {}, dispatcher?: Agent): Promise<Reply> {
  return call(url, {
    ...(dispatcher ? { dispatcher } : {}),
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

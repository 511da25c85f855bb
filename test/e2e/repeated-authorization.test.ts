import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postForm } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

/**
 * Two Authorization headers on one request: Node keeps only the first in `req.headers`, so a
 * proxy in front reading the last one and Gatehouse would act on different credentials. Every
 * interface refuses the request in its own format (src/http/repeated-headers.ts); one header
 * works as before.
 */
let s: TestServer;
let c: TestClient;

/** One HTTP/1.1 request written byte for byte (TLS for an https URL); the status and the body. */
function raw(base: string, head: string, body = ''): Promise<{ status: number; headers: string; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = u.protocol === 'https:' ? tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }) : net.connect(Number(u.port), u.hostname);
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (data += d));
    sock.on('error', reject);
    sock.on('close', () => {
      const i = data.indexOf('\r\n\r\n');
      resolve({ status: Number(data.slice(0, i).split(' ')[1]), headers: data.slice(0, i), body: data.slice(i + 4) });
    });
    sock.write(`${head}\r\nHost: ${u.host}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, 'latin1');
  });
}

beforeAll(async () => {
  s = await startTestServer('sqlite', { metrics: { token: 'metrics-token-of-this-test-0123456789' } });
  c = await createClient(s, { owner: 'alice', password: 'alice password' });
});
afterAll(async () => s?.close());

describe('two Authorization headers', () => {
  it('/token: 400 invalid_request (RFC 6749 §2.3), with the right credentials first or second; one header works', async () => {
    const right = basic(c.consumerKey, c.consumerSecret);
    const wrong = basic(c.consumerKey, 'not-the-secret');
    for (const [a, b] of [[right, wrong], [wrong, right], [right, right]]) {
      const r = await raw(s.http, `POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: ${a}\r\nAuthorization: ${b}`, 'grant_type=client_credentials');
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toEqual({ error: 'invalid_request', error_description: 'Send one Authorization header: this request has more than one.' });
    }
    expect((await postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, { authorization: right })).status).toBe(200);
  });

  it('/introspect and /revoke answer the same', async () => {
    const right = basic(c.consumerKey, c.consumerSecret);
    for (const path of ['/introspect', '/revoke']) {
      const r = await raw(s.http, `POST ${path} HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: ${right}\r\nAuthorization: ${right}`, 'token=x');
      expect(r.status, path).toBe(400);
      expect(JSON.parse(r.body).error, path).toBe('invalid_request');
    }
  });

  it('the admin REST API: 400 problem+json; one header works', async () => {
    const alice = `Basic ${Buffer.from('alice:alice password').toString('base64')}`;
    const r = await raw(s.portal, `GET /api/v1/users/alice HTTP/1.1\r\nAuthorization: ${alice}\r\nAuthorization: Bearer another`);
    expect(r.status).toBe(400);
    expect(r.headers.toLowerCase()).toContain('content-type: application/problem+json');
    expect(JSON.parse(r.body)).toMatchObject({ status: 400, detail: 'Send one Authorization header: this request has more than one.' });
    expect((await raw(s.portal, `GET /api/v1/users/alice HTTP/1.1\r\nAuthorization: ${alice}`)).status).toBe(200);
  });

  it('/metrics with a token: 401 as for no credential; one header works', async () => {
    const bearer = 'Bearer metrics-token-of-this-test-0123456789';
    expect((await raw(s.portal, `GET /metrics HTTP/1.1\r\nAuthorization: ${bearer}\r\nAuthorization: ${bearer}`)).status).toBe(401);
    expect((await raw(s.portal, `GET /metrics HTTP/1.1\r\nAuthorization: ${bearer}`)).status).toBe(200);
  });
});

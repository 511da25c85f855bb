import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/http/html.js';
import { call } from '../support/http.js';
import { LogCapture } from '../support/log-capture.js';
import { addUser, startTestServer, type TestServer } from '../support/server.js';

const ERROR = 50;
const BIG = `X-Big: ${'a'.repeat(17 * 1024)}\r\n`;
const BAD_HEADER = 'Authorization :Basic cm9vdDpyb290LXBhc3N3b3Jk\r\n';

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Every answer on one connection, parsed by Content-Length, until the server closes it. */
function parse(data: Buffer): RawReply[] {
  const out: RawReply[] = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [line = '', ...fields] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const f of fields) headers[f.slice(0, f.indexOf(':')).toLowerCase()] = f.slice(f.indexOf(':') + 1).trim();
    const length = Number(headers['content-length'] ?? 0);
    out.push({ status: Number(line.split(' ')[1]), headers, body: rest.subarray(end + 4, end + 4 + length).toString('utf8') });
    rest = rest.subarray(end + 4 + length);
  }
  return out;
}

/**
 * Writes requests byte for byte on one connection (TLS for the portal), each after the answer
 * to the one before, and returns the answers: what a client that sends what it likes sees.
 */
function raw(port: number, requests: string[], secure = true): Promise<RawReply[]> {
  return new Promise((resolve, reject) => {
    const sock: net.Socket = secure ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let sent = 0;
    const next = () => {
      if (sent < requests.length) sock.write(requests[sent++]!, 'latin1');
    };
    sock.once(secure ? 'secureConnect' : 'connect', next);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      if (parse(Buffer.concat(chunks)).length === sent) next();
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(parse(Buffer.concat(chunks))));
  });
}

const get = (path: string, extra = '', close = false) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}${close ? 'Connection: close\r\n' : ''}\r\n`;

function expectPage(r: RawReply | { status: number; headers: Record<string, unknown>; text?: string; body?: string }, status: number, text: string): void {
  expect(r.status).toBe(status);
  expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(String(r.headers['content-security-policy'])).toContain("default-src 'none'");
  expect(r.headers['cache-control']).toBe('no-store');
  const body = 'text' in r && r.text !== undefined ? r.text : (r as RawReply).body;
  expect(body).toMatch(/^<!doctype html>/i);
  expect(body).toContain(escapeHtml(text));
}

function expectProblem(r: RawReply, status: number, detail: string): void {
  expect(r.status).toBe(status);
  expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(JSON.parse(r.body)).toMatchObject({ status, detail, type: expect.stringMatching(/^urn:gatehouse:problem:/), title: expect.any(String) });
}

/** Finding 3: the portal listener's refusals before any route are its own formats (HTML pages, problem+json under /api). */
describe('refusals before any route, in the format of the listener and path', () => {
  let s: TestServer;
  const log = new LogCapture();

  beforeAll(async () => {
    s = await startTestServer('sqlite', { log: { level: 'info' } }, { log: log.write });
    await addUser(s, 'root', 'root-password', 'admin');
  });
  afterAll(async () => s?.close());

  it('a portal page path that does not percent-decode is the 400 HTML page, not gateway fault JSON', async () => {
    for (const path of ['/store/applications/%zz', '/store/applications/%ff', '/store/a%zz', '/admin/users/%zz']) {
      const r = await call(`${s.portal}${path}`);
      expectPage(r, 400, 'The request URL is not valid: write "%" only as %XX (percent-encoded UTF-8).');
      expect(r.text).not.toContain('900400');
    }
  });

  it('a portal path parameter over 255 characters is the 414 HTML page, not RFC 6749 JSON, and never echoes the path', async () => {
    const r = await call(`${s.portal}/store/applications/${'x'.repeat(300)}`);
    expectPage(r, 414, 'The request URL is too long: a path parameter has more than 255 characters.');
    expect(r.text).not.toContain('xxxxxxxxxx');
    expect(r.text).not.toContain('invalid_request');
  });

  it('under /api the same refusals stay problem+json', async () => {
    const bad = await raw(s.server.ports.portal, [get('/api/v1/users/%zz', '', true)]);
    expectProblem(bad[0]!, 400, 'The request URL is not valid: write "%" only as %XX (percent-encoded UTF-8).');
    const long = await raw(s.server.ports.portal, [get(`/api/v1/users/${'x'.repeat(300)}`, '', true)]);
    expectProblem(long[0]!, 414, 'The request URL is too long: a path parameter has more than 255 characters.');
  });

  it('headers over 16 KB: 431 problem+json on /api/v1/me, the 431 HTML page on /store', async () => {
    const api = await raw(s.server.ports.portal, [get('/api/v1/me', BIG)]);
    expect(api).toHaveLength(1);
    expectProblem(api[0]!, 431, 'The request headers are too large.');
    const page = await raw(s.server.ports.portal, [get('/store', BIG)]);
    expect(page).toHaveLength(1);
    expectPage(page[0]!, 431, 'The request headers are too large.');
  });

  it('the format follows the request that failed, not the one before it on the connection', async () => {
    const [first, second] = await raw(s.server.ports.portal, [get('/store'), get('/api/v1/me', BIG)]);
    expect(first!.status).toBe(200);
    expectProblem(second!, 431, 'The request headers are too large.');
    const [apiFirst, pageSecond] = await raw(s.server.ports.portal, [get('/api/v1/me', 'Authorization: Basic cm9vdDpyb290LXBhc3N3b3Jk\r\n'), get('/store', BAD_HEADER)]);
    expect(apiFirst!.status).toBe(200);
    expect(JSON.parse(apiFirst!.body)).toMatchObject({ username: 'root' });
    expectPage(pageSecond!, 400, 'Malformed HTTP header: a header name may not contain spaces.');
  });

  it("'Authorization :Basic' (the original page's header): problem+json on /api/v1/me, the HTML page on a portal page, the fix in both", async () => {
    const [api] = await raw(s.server.ports.portal, [get('/api/v1/me', BAD_HEADER)]);
    expectProblem(api!, 400, "Malformed HTTP header: a header name may not contain spaces. Write 'Authorization: Basic <base64>' with no space before the colon (curl -H 'Authorization: Basic <base64>'), and send Content-Type as its own header.");
    const [page] = await raw(s.server.ports.portal, [`POST /store/signin HTTP/1.1\r\nHost: 127.0.0.1\r\n${BAD_HEADER}Content-Length: 0\r\n\r\n`]);
    expectPage(page!, 400, "Write 'Authorization: Basic <base64>' with no space before the colon");
  });

  it('the token and gateway listeners keep their formats: RFC 6749 JSON from the parser, fault JSON for a bad API path', async () => {
    const [token] = await raw(s.server.ports.http!, [`POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n${BAD_HEADER}Content-Length: 0\r\n\r\n`], false);
    expect(token!.status).toBe(400);
    expect(token!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(token!.body)).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining("Write 'Authorization: Basic <base64>'") });
    const [big] = await raw(s.server.ports.https, [get('/token', BIG)]);
    expect(big!.status).toBe(431);
    expect(JSON.parse(big!.body)).toEqual({ error: 'invalid_request', error_description: 'The request headers are too large.' });
    const fault = await call(`${s.https}/some/v1/a%zz`);
    expect(fault.status).toBe(400);
    expect(fault.json).toMatchObject({ code: '900400' });
  });

  it("a parser refusal on a published API's path is the gateway's fault JSON; obsolete line folding is named as such", async () => {
    const [folded] = await raw(s.server.ports.http!, ['GET /weather/v1/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fold: a\r\n b\r\n\r\n'], false);
    expect(folded!.status).toBe(400);
    expect(folded!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(folded!.body)).toEqual({
      code: '900400',
      message: 'Bad Request',
      description: 'Malformed HTTP header: a header line may not start with a space or tab (obsolete line folding, RFC 9112 §5.2); send each header on one line.',
    });
    const [method] = await raw(s.server.ports.http!, ['FOO /weather/v1/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], false);
    expect(JSON.parse(method!.body)).toEqual({ code: '900400', message: 'Bad Request', description: 'Malformed HTTP request (HPE_INVALID_METHOD).' });
    const [badName] = await raw(s.server.ports.https, ['GET /weather/v1/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX(Y): 1\r\n\r\n']);
    expect(JSON.parse(badName!.body)).toEqual({ code: '900400', message: 'Bad Request', description: "Malformed HTTP header: a header name may contain only letters, digits and !#$%&'*+-.^_`|~, then a colon (RFC 9110 §5.1)." });
    // the token service's own paths keep RFC 6749 JSON for the same refusal, an unknown method too
    const [tokenMethod] = await raw(s.server.ports.http!, ['FOO /token HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], false);
    expect(tokenMethod!.headers.pragma).toBe('no-cache');
    expect(JSON.parse(tokenMethod!.body)).toEqual({ error: 'invalid_request', error_description: 'Malformed HTTP request (HPE_INVALID_METHOD).' });
    const [tokenFolded] = await raw(s.server.ports.http!, ['POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n'], false);
    expect(JSON.parse(tokenFolded!.body)).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('obsolete line folding') });
  });

  it('an HTTP/1.1 request without Host is a 400 in the format of its path on the gateway and portal listeners (HTTP/1.0 needs none)', async () => {
    const NO_HOST = 'The request has no Host header: HTTP/1.1 requires one (RFC 9112 §3.2).';
    const [token] = await raw(s.server.ports.http!, ['POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials'], false);
    expect(token!.status).toBe(400);
    expect(token!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(token!.headers.connection).toBe('close');
    expect(JSON.parse(token!.body)).toEqual({ error: 'invalid_request', error_description: NO_HOST });
    const [api] = await raw(s.server.ports.https, ['GET /weather/v1/x HTTP/1.1\r\nAuthorization: Bearer x\r\n\r\n']);
    expect(api!.status).toBe(400);
    expect(JSON.parse(api!.body)).toEqual({ code: '900400', message: 'Bad Request', description: NO_HOST });
    const [problem] = await raw(s.server.ports.portal, ['GET /api/v1/me HTTP/1.1\r\n\r\n']);
    expectProblem(problem!, 400, NO_HOST);
    const [page] = await raw(s.server.ports.portal, ['GET /store HTTP/1.1\r\n\r\n']);
    expectPage(page!, 400, NO_HOST);
    // a later version in the request line needs one too
    const [two] = await raw(s.server.ports.portal, ['GET /store HTTP/2.0\r\n\r\n']);
    expectPage(two!, 400, NO_HOST);
    // a body the gateway will not read: the connection closes, said once
    const bodyText = await new Promise<string>((resolve, reject) => {
      const sock = net.connect({ port: s.server.ports.http!, host: '127.0.0.1' });
      let data = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => (data += d));
      sock.on('close', () => resolve(data));
      sock.on('error', reject);
      sock.write('POST /weather/v1/x HTTP/1.1\r\nContent-Length: 5\r\n\r\n');
    });
    expect(bodyText).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyText.match(/^connection: close\r$/gim)).toHaveLength(1);
    // HTTP/1.0 without Host is served as before
    const [old] = await raw(s.server.ports.http!, ['GET /health/live HTTP/1.0\r\n\r\n'], false);
    expect(old!.status).toBe(200);
  });

  it('CONNECT gets a 405 in the format of the listener and path (Node closed the connection without a word)', async () => {
    const NO_CONNECT = 'CONNECT is not served: Gatehouse opens no tunnels (it is not a forward proxy).';
    const connect = (target: string) => `CONNECT ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const [api] = await raw(s.server.ports.http!, [connect('/weather/v1/x')], false);
    expect(api!.status).toBe(405);
    expect(api!.headers.allow).toBe('GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS');
    expect(JSON.parse(api!.body)).toEqual({ code: '405', message: 'Runtime Error', description: 'Method not allowed for given API resource' });
    for (const target of ['127.0.0.1:443', '/token']) {
      const [oauth] = await raw(s.server.ports.https, [connect(target)]);
      expect(oauth!.status, target).toBe(405);
      expect(oauth!.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(oauth!.body)).toEqual({ error: 'invalid_request', error_description: NO_CONNECT });
    }
    const [problem] = await raw(s.server.ports.portal, [connect('/api/v1/tiers')]);
    expectProblem(problem!, 405, NO_CONNECT);
    const [page] = await raw(s.server.ports.portal, [connect('/store')]);
    expectPage(page!, 405, NO_CONNECT);
    // a client that resets the connection at once is no crash (Node leaves a CONNECT socket without an error listener)
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new Promise<void>((resolve) => {
          const sock = net.connect({ port: i % 2 ? s.server.ports.http! : s.server.ports.portal, host: '127.0.0.1' });
          sock.on('error', () => resolve());
          sock.on('close', () => resolve());
          sock.on('connect', () => {
            sock.write(`${connect('a:443')}${'x'.repeat(4096)}`);
            setTimeout(() => sock.resetAndDestroy(), 1);
          });
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    expect((await call(`${s.http}/health/live`)).status).toBe(200);
  });

  it('none of these is logged as an error', () => {
    expect(log.lines.filter((l) => l.level >= ERROR)).toEqual([]);
  });
});

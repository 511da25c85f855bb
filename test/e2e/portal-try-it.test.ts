import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormAgent, hidden, location } from '../support/authorize.js';
import { LogCapture } from '../support/log-capture.js';
import { admin, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const ERROR = 50;
const LIMIT_MS = 2000;

/** A loopback backend that never answers /never, trickles one byte every 200 ms on /trickle, answers 128 KiB on /big; it notes when each call's connection closes. */
async function slowBackend() {
  const closed: Array<{ path: string; at: number }> = [];
  const started: Array<{ path: string; at: number }> = [];
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    started.push({ path, at: Date.now() });
    res.on('close', () => closed.push({ path, at: Date.now() }));
    req.resume();
    if (path.endsWith('/trickle')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('.'), 200);
      res.on('close', () => clearInterval(t));
    } else if (path.endsWith('/echo')) {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    } else if (path.endsWith('/big')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('b'.repeat(128 * 1024));
    }
    // /never: nothing, ever
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    closed,
    started,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => undefined),
    closeAll: () => server.closeAllConnections(),
  };
}

/** Finding 2: Try it has one deadline for the whole call, reads at most 64 KiB, and stops when the browser leaves. */
describe('Try it against a slow backend', () => {
  let s: TestServer;
  let backend: Awaited<ReturnType<typeof slowBackend>>;
  let c: TestClient;
  let apiId: string;
  let agent: FormAgent;
  const log = new LogCapture();

  beforeAll(async () => {
    backend = await slowBackend();
    s = await startTestServer('sqlite', { log: { level: 'info' }, portal: { tryItTimeoutMs: LIMIT_MS } }, { log: log.write });
    c = await createClient(s, { owner: 'alice', password: 'alice-password', app: 'try-app' });
    const m = s.server.management;
    const api = await m.apis.create(admin, { name: 'Slow', context: '/slow', version: 'v1', productionUrl: backend.url, tiers: ['Gold'] });
    await m.apis.publish(admin, api.id);
    await m.subscriptions.create(admin, { applicationId: c.applicationId, apiId: api.id, tier: 'Gold' });
    apiId = api.id;
    agent = new FormAgent(s.portal);
    const page = await agent.get('/store/signin');
    expect((await agent.post('/store/signin', { csrf: hidden(page.text, 'csrf'), username: 'alice', password: 'alice-password', next: '/store' })).status).toBe(303);
  });
  afterAll(async () => {
    await s?.close();
    backend?.closeAll();
    await backend?.close();
  });

  /** Sends the Try it form; follows its redirect to the API's page (what the browser shows). */
  async function tryIt(path: string): Promise<{ post: number; page: string; ms: number }> {
    const form = await agent.get(`/store/apis/${apiId}`);
    const t0 = Date.now();
    const r = await agent.post(`/store/apis/${apiId}/try`, { csrf: hidden(form.text, 'csrf'), applicationId: c.applicationId, keyType: 'PRODUCTION', method: 'GET', path });
    const ms = Date.now() - t0;
    const shown = r.status === 303 ? await agent.get(location(r).split('#')[0]!) : r;
    expect(shown.headers['content-type']).toBe('text/html; charset=utf-8');
    return { post: r.status, page: shown.text, ms };
  }

  const closedAfter = async (path: string, since: number, within: number): Promise<number> => {
    const deadline = Date.now() + within;
    for (;;) {
      const hit = backend.closed.find((x) => x.path === path && x.at >= since);
      if (hit) return hit.at;
      if (Date.now() > deadline) throw new Error(`the backend's ${path} call was still open ${within} ms later`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('a method sent twice is refused on the form with the field marked, nothing sent to the backend', async () => {
    const form = await agent.get(`/store/apis/${apiId}`);
    const before = backend.closed.length;
    const r = await agent.post(`/store/apis/${apiId}/try`, { csrf: hidden(form.text, 'csrf'), applicationId: c.applicationId, keyType: 'PRODUCTION', method: ['GET', 'POST'], path: '/twice' });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/id="try-method"[^>]*aria-invalid="true"/);
    expect(r.text).toContain('the form sent method 2 times: send it once');
    expect(r.text).toMatch(/value="\/twice"/);
    expect(backend.closed.length).toBe(before);
  });

  it('a backend that never answers: the page shows 504 "did not answer within 2 s" after the deadline; the backend call is dropped', async () => {
    const t0 = Date.now();
    const r = await tryIt('/never');
    expect(r.post).toBe(303);
    expect(r.ms).toBeGreaterThanOrEqual(LIMIT_MS - 50);
    expect(r.ms).toBeLessThan(LIMIT_MS + 1500);
    expect(r.page).toContain('<strong>504</strong>');
    expect(r.page).toContain('The API did not answer within 2 s: Try it stopped waiting (504 Gateway Timeout).');
    expect(r.page).not.toContain('Something went wrong');
    await closedAfter('/never', t0, 2000);
  });

  it('a backend that trickles its body: the page shows what came within the deadline, says it was cut, and the backend call is dropped', async () => {
    const t0 = Date.now();
    const r = await tryIt('/trickle');
    expect(r.post).toBe(303);
    expect(r.ms).toBeLessThan(LIMIT_MS + 1500);
    expect(r.page).toContain('<strong>200</strong>');
    expect(r.page).toContain('The response did not finish within 2 s: Try it stopped reading, and the body is cut where it stopped.');
    expect(r.page).toMatch(/<h3>Body<\/h3><pre><code>\.{3,}/);
    await closedAfter('/trickle', t0, 2000);
  });

  it('the call goes where the page says: the backend sees the forwarding headers of a client calling the shown HTTPS URL', async () => {
    const r = await tryIt('/echo');
    expect(r.page).toContain('<strong>200</strong>');
    const issuer = new URL(s.server.config.oauth.issuer);
    expect(r.page).toContain(`${issuer.origin}/slow/v1/echo`);
    const h = backend.seen.at(-1)!;
    expect({ proto: h['x-forwarded-proto'], host: h['x-forwarded-host'] }).toEqual({ proto: 'https', host: issuer.host });
  });

  it('a large body is read up to 64 KiB only', async () => {
    const r = await tryIt('/big');
    expect(r.page).toContain('<strong>200</strong>');
    expect(r.page).toContain('… (cut at 64 KiB)');
    expect(r.page).not.toContain('b'.repeat(64 * 1024 + 1));
  });

  it('a browser that goes away stops the call: the gateway drops its backend call long before the deadline', async () => {
    const form = await agent.get(`/store/apis/${apiId}`);
    const gone = new AbortController();
    const before = backend.started.length;
    // a browser of its own, closed after: the call it leaves is the only one it makes
    const browser = new Agent({ connect: { rejectUnauthorized: false } });
    const sent = request(`${s.portal}/store/apis/${apiId}/try`, {
      method: 'POST',
      dispatcher: browser,
      signal: gone.signal,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      body: new URLSearchParams({ csrf: hidden(form.text, 'csrf'), applicationId: c.applicationId, keyType: 'PRODUCTION', method: 'GET', path: '/never' }).toString(),
    }).catch((err: unknown) => err);
    // wait until the call has reached the backend, then leave
    for (let i = 0; backend.started.length === before; i++) {
      if (i > 200) throw new Error('the call never reached the backend');
      await new Promise((r) => setTimeout(r, 10));
    }
    const leftAt = Date.now();
    gone.abort();
    await sent;
    await browser.destroy();
    const closedAt = await closedAfter('/never', leftAt, LIMIT_MS);
    expect(closedAt - leftAt).toBeLessThan(LIMIT_MS / 2);
  });

  it('none of it is an error of the server: no error-level line', () => {
    expect(log.lines.filter((l) => l.level >= ERROR)).toEqual([]);
  });
});

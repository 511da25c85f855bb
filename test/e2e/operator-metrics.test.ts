import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { LogCapture, scrape } from '../support/log-capture.js';
import { admin, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

/**
 * Issue 14 item 2 (/metrics on its own address, behind a bearer token; the gauges and counters
 * that are not security events) and item 1's access log, on a real node: PostgreSQL with a
 * one-connection pool when it is reachable (pool waits), else SQLite.
 */
const TOKEN = 'metrics-token-0123456789abcdef';
const kind = (await availableKinds()).includes('postgres') ? 'postgres' : 'sqlite';

/** Every metric the README's table documents, with its type. */
const DOCUMENTED: [string, 'counter' | 'gauge' | 'histogram'][] = [
  ['gatehouse_oauth_tokens_issued_total', 'counter'],
  ['gatehouse_oauth_token_failures_total', 'counter'],
  ['gatehouse_oauth_client_auth_failures_total', 'counter'],
  ['gatehouse_oauth_lockouts_total', 'counter'],
  ['gatehouse_oauth_refresh_reuse_total', 'counter'],
  ['gatehouse_oauth_code_reuse_total', 'counter'],
  ['gatehouse_oauth_saml_refusals_total', 'counter'],
  ['gatehouse_password_hash_queue', 'gauge'],
  ['gatehouse_database_pool_waiting', 'gauge'],
  ['gatehouse_database_pool_waits_total', 'counter'],
  ['gatehouse_database_busy_total', 'counter'],
  ['gatehouse_process_cpu_seconds_total', 'counter'],
  ['gatehouse_process_resident_memory_bytes', 'gauge'],
  ['gatehouse_gateway_requests_total', 'counter'],
  ['gatehouse_gateway_backend_errors_total', 'counter'],
];

describe(`/metrics on its own address with a bearer token, and the access log (${kind})`, () => {
  let s: TestServer;
  let c: TestClient;
  let backend: Server;
  let metricsUrl: string;
  const log = new LogCapture();
  const metrics = () => scrape(metricsUrl, { authorization: `Bearer ${TOKEN}` });

  beforeAll(async () => {
    backend = createServer((_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    s = await startTestServer(
      kind,
      {
        log: { level: 'warn', access: true },
        metrics: { listen: '127.0.0.1:0', token: TOKEN },
        database: { poolSize: 1 },
        security: { passwordHashing: { concurrency: 1 } },
      },
      { log: log.write },
    );
    metricsUrl = `http://127.0.0.1:${s.server.ports.metrics}/metrics`;
    c = await createClient(s, { owner: 'alice', password: 'alice-metrics-pw', app: 'metrics-app' });
    const m = s.server.management;
    const addr = backend.address() as { port: number };
    const api = await m.apis.create(admin, { name: 'Echo', context: '/echo', version: 'v1', productionUrl: `http://127.0.0.1:${addr.port}`, tiers: ['Gold'] });
    await m.apis.publish(admin, api.id);
    await m.subscriptions.create(admin, { applicationId: c.applicationId, apiId: api.id, tier: 'Gold' });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await new Promise((r) => backend?.close(r));
  });

  it("answers every refusal in its plain text: no Host, another path, a path that does not decode, a malformed header, CONNECT", async () => {
    const rawAnswer = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = connect({ port: s.server.ports.metrics!, host: '127.0.0.1' });
        let data = '';
        sock.setEncoding('utf8');
        sock.on('data', (d: string) => (data += d));
        sock.on('close', () => resolve(data));
        sock.on('error', reject);
        sock.write(request);
      });
    const cases: Array<[string, RegExp, string]> = [
      [`GET /metrics HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`, /^HTTP\/1\.1 400 Bad Request\r\n/, '400 Bad Request: The request has no Host header: HTTP/1.1 requires one (RFC 9112 §3.2).\n'],
      ['GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 404 Not Found\r\n/, '404 Not Found: this listener serves GET /metrics only\n'],
      ['POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1\r\nConnection: close\r\n\r\n{', /^HTTP\/1\.1 400 Bad Request\r\n/, '400 Bad Request: this listener serves GET /metrics only\n'],
      ['GET /metrics%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n/, '400 Bad Request: The request URL cannot be served.\n'],
      [`GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization :Bearer ${TOKEN}\r\n\r\n`, /^HTTP\/1\.1 400 Bad Request\r\n/, "400 Bad Request: Malformed HTTP header: a header name may not contain spaces. Write 'Authorization: Basic <base64>' with no space before the colon (curl -H 'Authorization: Basic <base64>'), and send Content-Type as its own header.\n"],
      ['CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 405 Method Not Allowed\r\n/, '405 Method Not Allowed: CONNECT is not served: Gatehouse opens no tunnels (it is not a forward proxy).\n'],
    ];
    for (const [request, status, body] of cases) {
      const answer = await rawAnswer(request);
      expect(answer, request).toMatch(status);
      expect(answer, request).toMatch(/^content-type: text\/plain; charset=utf-8\r$/im);
      expect(answer.split('\r\n\r\n')[1], request).toBe(body);
      expect(answer).not.toContain('gatehouse_');
    }
  });

  it('is served only on metrics.listen, and only with the token: 401 with a Bearer challenge otherwise', async () => {
    expect((await call(`${s.portal}/metrics`)).status).toBe(404);
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }]) {
      const r = await call(metricsUrl, { headers });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="gatehouse-metrics"');
      expect(r.text).not.toContain('gatehouse_');
    }
    const ok = await call(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    for (const [name, type] of DOCUMENTED) expect(ok.text, name).toContain(`# TYPE ${name} ${type}\n`);
    // Counters only go up: CPU time between two scrapes.
    const a = (await metrics()).get('gatehouse_process_cpu_seconds_total')!;
    const b = (await metrics()).get('gatehouse_process_cpu_seconds_total')!;
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it('the argon2 queue depth shows verifications waiting for a thread', async () => {
    const grants = Array.from({ length: 6 }, () =>
      postForm(`${s.https}/token`, { grant_type: 'password', username: 'alice', password: 'alice-metrics-pw' }, { authorization: basic(c.consumerKey, c.consumerSecret) }),
    );
    let peak = 0;
    const watching = (async () => {
      for (let i = 0; i < 100 && peak === 0; i++) {
        peak = Math.max(peak, (await metrics()).get('gatehouse_password_hash_queue')!);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const answers = await Promise.all(grants);
    await watching;
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(peak).toBeGreaterThanOrEqual(1);
    expect((await metrics()).get('gatehouse_password_hash_queue')).toBe(0);
  }, 30_000);

  it.skipIf(kind !== 'postgres')('database pool waits are counted (poolSize 1, requests at once)', async () => {
    const before = (await metrics()).get('gatehouse_database_pool_waits_total')!;
    // Issued tokens share one group-commit transaction; introspections each read the database.
    const issued = await postForm(`${s.https}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, c.consumerSecret) });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => postForm(`${s.https}/introspect`, { token: issued.json.access_token as string }, { authorization: basic(c.consumerKey, c.consumerSecret) })),
    );
    expect(answers.map((r) => [r.status, r.json.active])).toEqual(Array.from({ length: 10 }, () => [200, true]));
    expect((await metrics()).get('gatehouse_database_pool_waits_total')! - before).toBeGreaterThan(0);
  });

  it('log.access: one line per token and gateway request, without the query string or any credential', async () => {
    const t = await postForm(`${s.https}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, c.consumerSecret) });
    expect(t.status).toBe(200);
    const bearer = t.json.access_token as string;
    expect((await call(`${s.http}/echo/v1/forecast?city=Oslo&key=s3cr3t-query-value`, { headers: { authorization: `Bearer ${bearer}` } })).status).toBe(200);
    const access = log.events('access');
    const tokenLine = access.find((l) => l.path === '/token' && l.status === 200 && l.grant_type === 'client_credentials');
    expect(tokenLine).toMatchObject({
      level: 30, method: 'POST', api: null, version: null, application: 'metrics-app', key_type: 'PRODUCTION', remote: '127.0.0.1', listener: 'gateway-https',
    });
    expect(tokenLine!.ms).toEqual(expect.any(Number));
    const gatewayLines = access.filter((l) => l.path === '/echo/v1/forecast');
    expect(gatewayLines).toHaveLength(1);
    expect(gatewayLines[0]).toMatchObject({
      level: 30, method: 'GET', api: 'Echo', version: 'v1', application: 'metrics-app', key_type: 'PRODUCTION', status: 200, remote: '127.0.0.1',
    });
    expect(log.raw).not.toContain('s3cr3t-query-value');
    expect(log.raw).not.toContain('Oslo');
    expect(log.raw).not.toContain(bearer);
    expect(log.raw).not.toContain(c.consumerSecret);
    expect(log.raw).not.toContain('alice-metrics-pw');
  });
});

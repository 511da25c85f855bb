// Issue 11 item 2 against a real node: the saml2-bearer grant's size cap, its worker pool (the
// event loop stays responsive while workers verify), the bounded queue (503) and the
// per-client failure budget (429).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { basic, call, postForm, type Reply } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';
import { assertionXml, iso } from './fixtures.js';
import { keyStore, type KeyStore, type TestKey } from './keys.js';
import { signXml } from './sign.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
const IDP = 'https://idp.example.org/saml';
const nowS = () => Math.floor(Date.now() / 1000);
let keys: KeyStore;
let idpKey: TestKey;

beforeAll(() => {
  keys = keyStore();
  idpKey = keys.make('idp', 'rsa');
});
afterAll(() => keys?.cleanup());

/** An assertion in the common IdP shape for `issuer`, padded with attributes to about `bytes`. */
function assertion(issuer: string, opts: { bytes?: number; tamper?: boolean } = {}): string {
  const now = nowS();
  const attributes = Math.max(0, Math.floor(((opts.bytes ?? 2000) - 2000) / 118));
  const values = Array.from({ length: attributes }, (_, i) => `<saml:Attribute Name="urn:oid:1.3.6.1.4.1.5923.${1000 + i}"><saml:AttributeValue>v-${i}</saml:AttributeValue></saml:Attribute>`).join('');
  const xml = signXml(
    assertionXml({
      id: `_${crypto.randomUUID()}`,
      issuer: IDP,
      audience: issuer,
      recipient: `${issuer}/token`,
      issueInstant: iso(now - 5),
      notBefore: iso(now - 5),
      notOnOrAfter: iso(now + 600),
      scNotOnOrAfter: iso(now + 600),
      extraXml: attributes > 0 ? `<saml:AttributeStatement>${values}</saml:AttributeStatement>` : '',
    }),
    idpKey,
  );
  // A tampered SignatureValue: the digest still matches, so the verifier does all the work.
  return opts.tamper ? xml.replace(/<ds:SignatureValue>(.)/, (_, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`) : xml;
}

async function node(saml: Record<string, unknown> = {}): Promise<{ s: TestServer; exchange(xml: string, client: TestClient): Promise<Reply>; client(app: string): Promise<TestClient> }> {
  const s = await startTestServer('sqlite', { saml });
  await s.server.store.idps.add({ issuer: IDP, alias: null, audiences: [], certificates: [idpKey.certPem] });
  return {
    s,
    exchange: (xml, client) =>
      postForm(`${s.http}/token`, { grant_type: GRANT, assertion: Buffer.from(xml).toString('base64url') }, { authorization: basic(client.consumerKey, client.consumerSecret) }),
    client: (app) => createClient(s, { owner: 'alice', app }),
  };
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

describe('the size cap and the worker pool under load', () => {
  let n: Awaited<ReturnType<typeof node>>;
  beforeAll(async () => {
    n = await node({ maxFailuresPerMinute: 1000 });
  });
  afterAll(() => n?.s.close());

  test('a 44 KB tampered assertion is refused by size, before any parsing or crypto', async () => {
    const c = await n.client('big');
    const big = assertion(n.s.server.config.oauth.issuer, { bytes: 44_000, tamper: true });
    expect(Buffer.byteLength(big)).toBeGreaterThan(43_000);
    const before = n.s.server.oauth.saml.stats().started;
    const r = await n.exchange(big, c);
    expect(r.status, r.text).toBe(400);
    expect(r.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid SAML assertion: assertion is too large' });
    expect(n.s.server.oauth.saml.stats().started).toBe(before); // no worker saw it
  });

  test('two senders of ~16 KB tampered assertions: /health/live and the event loop stay responsive', async () => {
    const issuer = n.s.server.config.oauth.issuer;
    const senders = [await n.client('sender-1'), await n.client('sender-2')];
    const probe = async (): Promise<number> => {
      const t = performance.now();
      const r = await call(`${n.s.http}/health/live`);
      expect(r.status).toBe(200);
      return performance.now() - t;
    };
    // Idle figures first (after a warm-up), for the record.
    for (let i = 0; i < 20; i++) await probe();
    const idle: number[] = [];
    for (let i = 0; i < 40; i++) idle.push(await probe());

    const tampered = assertion(issuer, { bytes: 16_000, tamper: true });
    expect(Buffer.byteLength(tampered)).toBeGreaterThan(15_000);
    expect(Buffer.byteLength(tampered)).toBeLessThanOrEqual(16_384);
    const startedBefore = n.s.server.oauth.saml.stats().started;
    const statuses: number[] = [];
    let sending = true;
    const loops = senders.map(async (c) => {
      while (sending) {
        const r = await n.exchange(tampered, c);
        statuses.push(r.status);
        if (r.status === 400) expect(r.json.error_description).toBe('Invalid SAML assertion: signature is not valid for any certificate registered for the issuer');
      }
    });
    await new Promise((r) => setTimeout(r, 300)); // the pool is busy
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const utilization = performance.eventLoopUtilization();
    const busy: number[] = [];
    let poolBusy = 0;
    const until = performance.now() + 3000;
    while (performance.now() < until) {
      busy.push(await probe());
      if (n.s.server.oauth.saml.stats().busy > 0) poolBusy++;
      await new Promise((r) => setTimeout(r, 10));
    }
    const elu = performance.eventLoopUtilization(utilization).utilization;
    histogram.disable();
    sending = false;
    await Promise.all(loops);

    const verified = n.s.server.oauth.saml.stats().started - startedBefore;
    const loopP99 = histogram.percentile(99) / 1e6;
    console.log(
      `[saml load] ${verified} tampered 16 KB assertions verified in workers; /health/live p50/p99 idle ${percentile(idle, 50).toFixed(1)}/${percentile(idle, 99).toFixed(1)} ms, ` +
        `busy ${percentile(busy, 50).toFixed(1)}/${percentile(busy, 99).toFixed(1)} ms (${busy.length} probes, pool busy at ${poolBusy}); ` +
        `event-loop delay p99 ${loopP99.toFixed(1)} ms, max ${(histogram.max / 1e6).toFixed(1)} ms; main-thread utilization ${elu.toFixed(2)}`,
    );
    // The worker was really busy meanwhile (on a loaded machine fewer, slower verifications).
    expect(verified).toBeGreaterThanOrEqual(5);
    expect(poolBusy / busy.length).toBeGreaterThan(0.8);
    expect(elu).toBeLessThan(0.5);
    expect(statuses.every((s) => s === 400 || s === 503)).toBe(true);
    expect(percentile(busy, 99)).toBeLessThan(50);
    expect(loopP99).toBeLessThan(50);
  });
});

describe('the bounded queue', () => {
  let n: Awaited<ReturnType<typeof node>>;
  beforeAll(async () => {
    n = await node({ workers: 1, queueSize: 0, maxFailuresPerMinute: 1000 });
  });
  afterAll(() => n?.s.close());

  test('with the one worker busy and no queue, concurrent assertions get 503 temporarily_unavailable with Retry-After', async () => {
    const c = await n.client('burst');
    const tampered = assertion(n.s.server.config.oauth.issuer, { bytes: 16_000, tamper: true });
    const replies = await Promise.all(Array.from({ length: 8 }, () => n.exchange(tampered, c)));
    const busy = replies.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) {
      expect(r.json).toEqual({ error: 'temporarily_unavailable', error_description: 'The server is busy verifying SAML assertions; retry shortly.' });
      expect(r.headers['retry-after']).toBe('1');
      expect(r.headers['cache-control']).toBe('no-store');
    }
    expect(replies.filter((r) => r.status === 400).length).toBeGreaterThan(0);
    expect(replies.every((r) => r.status === 400 || r.status === 503)).toBe(true);
    // Unrelated grants are not affected: the pool only serves SAML.
    const cc = await postForm(`${n.s.http}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, c.consumerSecret) });
    expect(cc.status).toBe(200);
  });
});

describe('the per-client failure budget', () => {
  let n: Awaited<ReturnType<typeof node>>;
  beforeAll(async () => {
    n = await node({ maxFailuresPerMinute: 3 });
  });
  afterAll(() => n?.s.close());

  test('past 3 failed assertions a minute a client gets 429 at once, without work; other clients are unaffected', async () => {
    const issuer = n.s.server.config.oauth.issuer;
    const [attacker, other] = [await n.client('attacker'), await n.client('other')];
    for (let i = 0; i < 3; i++) {
      const r = await n.exchange(assertion(issuer, { tamper: true }), attacker);
      expect(r.json.error, r.text).toBe('invalid_grant');
    }
    const started = n.s.server.oauth.saml.stats().started;
    for (const xml of [assertion(issuer, { tamper: true }), assertion(issuer)]) {
      const r = await n.exchange(xml, attacker);
      expect(r.status, r.text).toBe(429);
      expect(r.json).toEqual({ error: 'temporarily_unavailable', error_description: 'Too many invalid SAML assertions from this client; retry later.' });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(55);
      expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    expect(n.s.server.oauth.saml.stats().started).toBe(started);
    const ok = await n.exchange(assertion(issuer), other);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.token_type).toBe('Bearer');
  });
});

test('closing the server stops the SAML verification workers', async () => {
  const n = await node();
  const c = await n.client('once');
  const r = await n.exchange(assertion(n.s.server.config.oauth.issuer), c);
  expect(r.status, r.text).toBe(200);
  expect(n.s.server.oauth.saml.stats()).toMatchObject({ workers: 1, busy: 0 });
  await n.s.close();
  expect(n.s.server.oauth.saml.stats()).toMatchObject({ workers: 0, busy: 0, queued: 0 });
  const param = Buffer.from(assertion(n.s.server.config.oauth.issuer)).toString('base64url');
  await expect(n.s.server.oauth.saml.verify(param, { findIdp: () => undefined, nowSeconds: nowS(), skewSeconds: 0 })).rejects.toThrow(/shutting down/);
});

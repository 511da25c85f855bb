// The worker pool that runs the verifier off the event loop: same answers as in process, a
// bounded queue, a time limit, recovery from a dead worker, and a clean close().
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  SamlUnavailableError,
  SamlValidationError,
  SamlVerifier,
  SamlWorkerPool,
  decodeAssertionParam,
  verifySamlBearerAssertion,
  type SamlIdentityProvider,
} from '../../src/saml/index.js';
import { makeContext, type SamlTestContext } from './context.js';
import { ISSUER, NOW, SKEW, assertionXml, b64url } from './fixtures.js';
import { signXml } from './sign.js';

const OPTIONS = { nowSeconds: NOW, skewSeconds: SKEW, maxBytes: 16384, maxDepth: 32, maxElements: 512, maxAttributes: 1024 };
const worker = (name: string) => new URL(`./workers/${name}.mjs`, import.meta.url);

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let ctx: SamlTestContext;
let xml: string;
const pools: Array<{ close(): Promise<void> }> = [];
const pool = (opts: ConstructorParameters<typeof SamlWorkerPool>[0]) => {
  const p = new SamlWorkerPool(opts);
  pools.push(p);
  return p;
};
const findIdp = (issuer: string): SamlIdentityProvider | undefined => (issuer === ISSUER ? ctx.idp : undefined);

beforeAll(() => {
  ctx = makeContext();
  xml = signXml(assertionXml(), ctx.idpKey);
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  ctx?.store.cleanup();
});

describe('SamlWorkerPool', () => {
  test('a worker (dist/saml/worker.js) gives the claims the in-process verifier gives', async () => {
    const p = pool({ size: 1, queueSize: 4 });
    const expected = await verifySamlBearerAssertion(b64url(xml), ctx.opts());
    expect(await p.verify(xml, OPTIONS, findIdp)).toEqual(expected);
    expect(await p.verify(xml, OPTIONS, async (i) => findIdp(i))).toEqual(expected);
    expect(p.stats()).toEqual({ started: 2, busy: 0, queued: 0, workers: 1 });
  });

  test('refusals keep their description; the caller\'s lookup error comes back unchanged', async () => {
    const p = pool({ size: 1, queueSize: 4 });
    const tampered = p.verify(xml.replace('alice@example.org', 'admin@example.org'), OPTIONS, findIdp);
    await expect(tampered).rejects.toBeInstanceOf(SamlValidationError);
    await expect(tampered).rejects.toThrow(/^assertion content does not match its signature digest$/);
    await expect(p.verify(xml, OPTIONS, () => undefined)).rejects.toThrow(/^unknown issuer$/);
    await expect(p.verify(xml, { ...OPTIONS, maxElements: 5 }, findIdp)).rejects.toThrow(/^assertion has too many elements$/);
    const outage = new Error('db down');
    await expect(p.verify(xml, OPTIONS, () => Promise.reject(outage))).rejects.toBe(outage);
  });

  test('bounded queue: with every worker busy and the queue full, the next assertion is refused at once', async () => {
    const p = pool({ size: 1, queueSize: 1 });
    const lookup = deferred<SamlIdentityProvider | undefined>();
    const running = p.verify(xml, OPTIONS, () => lookup.promise);
    const waiting = p.verify(xml, OPTIONS, findIdp);
    const refused = p.verify(xml, OPTIONS, findIdp);
    await expect(refused).rejects.toBeInstanceOf(SamlUnavailableError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 1 });
    expect(p.stats()).toMatchObject({ busy: 1, queued: 1 });
    lookup.resolve(ctx.idp);
    expect((await running).nameId).toBe('alice@example.org');
    expect((await waiting).nameId).toBe('alice@example.org');
  });

  test('time limit: a worker that does not answer is replaced; the issuer lookup does not count', async () => {
    const hung = pool({ size: 1, queueSize: 1, timeoutMs: 300, workerUrl: worker('hang') });
    const started = performance.now();
    await expect(hung.verify(xml, OPTIONS, findIdp)).rejects.toThrow(/^assertion took too long to validate$/);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(hung.stats()).toMatchObject({ busy: 0, workers: 0 });

    const real = pool({ size: 1, queueSize: 1, timeoutMs: 2000 });
    await real.verify(xml, OPTIONS, findIdp); // the worker is started and warm
    const slowLookup = () => new Promise<SamlIdentityProvider>((resolve) => setTimeout(() => resolve(ctx.idp), 2500));
    expect((await real.verify(xml, OPTIONS, slowLookup)).nameId).toBe('alice@example.org');
  });

  test('a worker that dies costs only its own assertion; one that cannot start is a clear error', async () => {
    const crashing = pool({ size: 1, queueSize: 2, workerUrl: worker('crash') });
    const results = await Promise.allSettled([crashing.verify(xml, OPTIONS, findIdp), crashing.verify(xml, OPTIONS, findIdp)]);
    for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: new SamlValidationError('assertion could not be validated') });
    expect(crashing.stats()).toMatchObject({ started: 2, busy: 0, queued: 0 });

    const missing = pool({ size: 1, queueSize: 1, workerUrl: worker('does-not-exist') });
    await expect(missing.verify(xml, OPTIONS, findIdp)).rejects.toThrow(/the SAML verification worker could not start .*npm run build/);
  });

  test('close() refuses what runs and waits, stops the workers, and refuses later calls', async () => {
    const p = pool({ size: 1, queueSize: 2 });
    const lookup = deferred<SamlIdentityProvider | undefined>();
    const running = p.verify(xml, OPTIONS, () => lookup.promise);
    const waiting = p.verify(xml, OPTIONS, findIdp);
    await new Promise((r) => setTimeout(r, 50));
    const outcomes = Promise.allSettled([running, waiting]);
    await p.close();
    for (const r of await outcomes) expect(r).toMatchObject({ status: 'rejected', reason: expect.any(SamlUnavailableError) });
    await expect(p.verify(xml, OPTIONS, findIdp)).rejects.toThrow(/shutting down/);
    expect(p.stats()).toMatchObject({ busy: 0, queued: 0, workers: 0 });
    lookup.resolve(ctx.idp);
  });
});

describe('SamlVerifier', () => {
  const settings = { maxAssertionBytes: 16384, maxElements: 512, maxAttributes: 1024, workers: 1, queueSize: 4, maxFailuresPerMinute: 30 };

  test('a 44 KB assertion is refused by size on the main thread: no worker is even started', async () => {
    const verifier = new SamlVerifier(settings);
    pools.push(verifier);
    const padding = `<saml:Advice><x:p xmlns:x="urn:x">${'A'.repeat(42_000)}</x:p></saml:Advice>`;
    const big = signXml(assertionXml({ extraXml: padding }), ctx.idpKey).replace(/<ds:SignatureValue>./, '<ds:SignatureValue>A');
    expect(Buffer.byteLength(big)).toBeGreaterThan(44_000);
    const started = performance.now();
    await expect(verifier.verify(b64url(big), { findIdp, nowSeconds: NOW, skewSeconds: SKEW })).rejects.toThrow(/^assertion is too large$/);
    expect(performance.now() - started).toBeLessThan(50);
    expect(verifier.stats()).toEqual({ started: 0, busy: 0, queued: 0, workers: 0 });
    // Within the cap, the decoded text goes to a worker.
    expect(decodeAssertionParam(b64url(xml), settings.maxAssertionBytes)).toBe(xml);
    expect((await verifier.verify(b64url(xml), { findIdp, nowSeconds: NOW, skewSeconds: SKEW })).nameId).toBe('alice@example.org');
    expect(verifier.stats()).toMatchObject({ started: 1, workers: 1 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableKinds } from '../support/databases.js';
import { ALICE, ROOT, expectProblem, startApiServer, type ApiServer } from './support.js';

const kinds = await availableKinds();
const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const REFUSED = 'the cursor is not one this list returned; start again without it';

/**
 * A cursor is opaque, but a client can forge one: whatever it decodes to, a list answers a page
 * or 400, never a 500. PostgreSQL refused a fraction in a bigint column and a NUL in text.
 */
describe.each(kinds)('forged cursors on %s', (kind) => {
  let a: ApiServer;
  beforeAll(async () => {
    a = await startApiServer(kind);
  });
  afterAll(async () => a?.close());

  it.each([
    ['/audit-events', 1.5],
    ['/audit-events', 1e300],
    ['/signing-keys', 1e300],
    ['/users', 'a\u0000b'],
    ['/users', '\ud800'],
    ['/applications', { name: '\u0000', id: 'x' }],
    ['/apis', { name: 'x', version: '\u0000' }],
    ['/subscriptions', { createdAt: 1.5, id: 'x' }],
    ['/subscriptions', { createdAt: 1, id: '\u0000' }],
    ['/identity-providers', 'x'.repeat(2000)],
    ['/tiers', 'NoSuchTier'],
    ['/tiers', { a: 1 }],
  ])('GET %s with a cursor of %j is 400 problem+json', async (path, value) => {
    const as = path === '/subscriptions' || path === '/applications' ? ALICE : ROOT;
    expectProblem(await a.rest('GET', `${path}?cursor=${cursor(value)}`, { as }), 400, REFUSED, 'cursor');
  });

  it('a cursor a list returned, with characters base64url has not added (the decoder would skip them), is refused', async () => {
    const first = (await a.rest('GET', '/tiers?limit=1', { as: ALICE })).json;
    expect((await a.rest('GET', `/tiers?limit=1&cursor=${first.next}`, { as: ALICE })).status).toBe(200);
    for (const junk of ['..', '==', '%20']) expectProblem(await a.rest('GET', `/tiers?limit=1&cursor=${first.next}${junk}`, { as: ALICE }), 400, REFUSED, 'cursor');
  });

  it("an application's tokens: a fractional issuedAt is refused too", async () => {
    const app = (await a.rest('POST', '/applications', { as: ALICE, body: { name: 'cursor-app' } })).json;
    expectProblem(await a.rest('GET', `/applications/${app.id}/tokens?cursor=${cursor({ issuedAt: 1.5, key: 'k' })}`, { as: ALICE }), 400, REFUSED, 'cursor');
  });
});

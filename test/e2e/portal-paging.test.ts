import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormAgent, hidden } from '../support/authorize.js';
import { addUser, admin, startTestServer, type TestServer } from '../support/server.js';

/**
 * The portal's lists page like the admin API's: 200 rows, then a "Next page" link with the
 * cursor. A page that needs a whole list (the subscribe form of an API's page) reads every page:
 * a subscription past the first 200 still shows.
 */
describe('portal lists past 200 rows', () => {
  let s: TestServer;
  let agent: FormAgent;
  let lateApiId: string;

  beforeAll(async () => {
    s = await startTestServer('sqlite');
    await addUser(s, 'sam', 'sam-password');
    const m = s.server.management;
    const apps = [];
    for (let i = 0; i < 201; i++) apps.push(await m.applications.create(admin, { owner: 'sam', name: `app-${String(i).padStart(3, '0')}` }));
    const early = await m.apis.create(admin, { name: 'Early', context: '/early', version: 'v1', productionUrl: 'http://127.0.0.1:9/x' });
    const late = await m.apis.create(admin, { name: 'Late', context: '/late', version: 'v1', productionUrl: 'http://127.0.0.1:9/x' });
    await m.apis.publish(admin, early.id);
    await m.apis.publish(admin, late.id);
    lateApiId = late.id;
    // 200 subscriptions to Early first: the one to Late is the 201st of sam's
    for (const app of apps.slice(0, 200)) await m.subscriptions.create(admin, { applicationId: app.id, apiId: early.id });
    await m.subscriptions.create(admin, { applicationId: apps[200]!.id, apiId: late.id });
    agent = new FormAgent(s.portal);
    const page = await agent.get('/store/signin');
    expect((await agent.post('/store/signin', { csrf: hidden(page.text, 'csrf'), username: 'sam', password: 'sam-password', next: '/store' })).status).toBe(303);
  }, 60_000);
  afterAll(async () => s?.close());

  const rows = (text: string, prefix: string) => text.match(new RegExp(`>${prefix}-\\d{3}<`, 'g'))?.length ?? 0;
  const nextHref = (text: string) => /<a href="([^"]+\?cursor=[^"]+)">Next page<\/a>/.exec(text)?.[1]?.replaceAll('&amp;', '&');

  it('My Applications: 200 on the first page with a Next page link; the last one on the second, with no link', async () => {
    const first = await agent.get('/store/applications');
    expect(first.status).toBe(200);
    expect(rows(first.text, 'app')).toBe(200);
    const href = nextHref(first.text);
    expect(href).toMatch(/^\/store\/applications\?cursor=/);
    const second = await agent.get(href!);
    expect(second.status).toBe(200);
    expect(rows(second.text, 'app')).toBe(1);
    expect(second.text).toContain('>app-200<');
    expect(nextHref(second.text)).toBeUndefined();
  });

  it('My Subscriptions pages the same way', async () => {
    const first = await agent.get('/store/subscriptions');
    const href = nextHref(first.text);
    expect(href).toMatch(/^\/store\/subscriptions\?cursor=/);
    const named = (text: string) => new Set(text.match(/app-\d{3}/g) ?? []);
    expect(named(first.text).size).toBe(200);
    const second = await agent.get(href!);
    expect(second.status).toBe(200);
    const rest = named(second.text);
    expect(rest.size).toBe(1);
    expect(named(first.text).has([...rest][0]!)).toBe(false);
    expect(nextHref(second.text)).toBeUndefined();
  });

  it("an API's page shows a subscription that is not on the first page of the user's subscriptions", async () => {
    const page = await agent.get(`/store/apis/${lateApiId}`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<h3>Subscribed<\/h3><ul><li>app-200 \(tier [A-Za-z]+\)/);
  });

  it('a cursor that is not one a list gave is a 400 page, not a 500', async () => {
    const bad = await agent.get('/store/applications?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('the cursor is not one this list returned; start again without it');
  });
});

import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, pkcePair } from '../support/authorize.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumAvailable } from '../support/browser.js';
import { availableKinds } from '../support/databases.js';
import { basic, postForm } from '../support/http.js';
import { addUser, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const ARTIFACTS = path.resolve('test-artifacts');
const kinds = chromiumAvailable() ? await availableKinds() : [];

/**
 * The authorization code flow in Debian's Chromium, driven by playwright-core, with
 * JavaScript disabled and a phone-sized viewport: the pages must work without script and be
 * readable on a phone. Screenshots of the pages are kept in test-artifacts/.
 */
describe.skipIf(kinds.length === 0)('authorization code flow in Chromium', () => {
  let browser: Browser;
  let callbackServer: Server;
  let callbackUrl: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // The client application's callback: a real page the browser lands on.
    callbackServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Client</title><h1>Callback received</h1>');
    });
    await new Promise<void>((r) => callbackServer.listen(0, '127.0.0.1', r));
    const addr = callbackServer.address();
    callbackUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/callback`;
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => callbackServer?.close(r));
  });

  describe.each(kinds.length ? kinds : ['sqlite' as const])('on %s', (kind) => {
    let s: TestServer;
    let c: TestClient;
    const shot = (name: string) => path.join(ARTIFACTS, `authorize-${kind}-${name}.png`);

    beforeAll(async () => {
      s = await startTestServer(kind);
      c = await createClient(s, { owner: 'alice', password: 'correct horse', app: 'Weather Dashboard', callbackUrls: [callbackUrl] });
    });
    afterAll(async () => s?.close());

    const newContext = (): Promise<BrowserContext> =>
      browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled: false, viewport: { width: 390, height: 844 }, isMobile: true, deviceScaleFactor: 2 });

    it('login → consent → redirect → token → introspection, then remembered consent', async () => {
      const ctx = await newContext();
      try {
        const page = await ctx.newPage();
        const console: string[] = [];
        page.on('console', (m) => console.push(m.text()));
        const { verifier, challenge } = pkcePair();
        const url = authorizeUrl(s.https, {
          response_type: 'code',
          client_id: c.consumerKey,
          redirect_uri: callbackUrl,
          scope: 'PRODUCTION orders:read',
          state: 'browser-state-1',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        });
        await page.goto(url);
        expect(new URL(page.url()).pathname).toBe('/authorize/login');
        expect(await page.title()).toBe('Sign in · Gatehouse');
        await expect.poll(() => page.getByText('Weather Dashboard').count()).toBe(1);
        await page.screenshot({ path: shot('1-login'), fullPage: true });

        // A wrong password first: back to the form, with a message.
        await page.getByLabel('Username').fill('alice');
        await page.getByLabel('Password').fill('wrong');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(/\/authorize\/login\?.*error=1/);
        expect(await page.getByRole('alert').textContent()).toContain('Invalid username or password');
        await page.screenshot({ path: shot('2-login-failed'), fullPage: true });

        await page.getByLabel('Username').fill('alice');
        await page.getByLabel('Password').fill('correct horse');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(/\/authorize\/consent\?/);
        const text = await page.locator('body').innerText();
        expect(text).toContain('Weather Dashboard');
        expect(text).toContain('PRODUCTION');
        expect(text).toContain('orders:read');
        expect(text).toContain('alice');
        await page.screenshot({ path: shot('3-consent'), fullPage: true });
        // The inline stylesheet is allowed by its hash: the CSP refused nothing.
        expect(console.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
        expect(await page.getByRole('button', { name: 'Approve' }).evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(36, 70, 107)');

        const cookies = await ctx.cookies(s.https + '/authorize');
        const session = cookies.find((k) => k.name === '__Secure-gatehouse_session');
        expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/authorize' });

        await page.getByLabel('Remember my decision for this application').check();
        await page.getByRole('button', { name: 'Approve' }).click();
        await page.waitForURL((u) => u.href.startsWith(`${callbackUrl}?`));
        expect(await page.locator('h1').textContent()).toBe('Callback received');
        const cb = new URL(page.url()).searchParams;
        expect(cb.get('state')).toBe('browser-state-1');
        expect(cb.get('iss')).toBe(s.server.config.oauth.issuer);
        const code = cb.get('code')!;
        expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

        const auth = { authorization: basic(c.consumerKey, c.consumerSecret) };
        const t = await postForm(`${s.https}/token`, { grant_type: 'authorization_code', code, redirect_uri: callbackUrl, code_verifier: verifier }, auth);
        expect(t.status).toBe(200);
        expect(t.json).toMatchObject({ token_type: 'Bearer', scope: 'PRODUCTION orders:read' });
        // What the gateway will ask about this token: an active user token of this application.
        const i = await postForm(`${s.https}/introspect`, { token: t.json.access_token }, auth);
        expect(i.json).toMatchObject({ active: true, token_type: 'Bearer', client_id: c.consumerKey, username: 'alice', sub: 'alice', scope: 'PRODUCTION orders:read', key_type: 'PRODUCTION' });
        expect(i.json.exp).toBeGreaterThan(Math.floor(Date.now() / 1000));

        // Signed in and remembered: the next authorization goes straight back to the client.
        await page.goto(authorizeUrl(s.https, { response_type: 'code', client_id: c.consumerKey, redirect_uri: callbackUrl, scope: 'orders:read', state: 'again', code_challenge: challenge, code_challenge_method: 'S256' }));
        await page.waitForURL((u) => u.href.startsWith(`${callbackUrl}?`));
        expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
      } finally {
        await ctx.close();
      }
    });

    it("scope manage: an admin sees the warning first, on a phone's first screen, with a red Approve and no Remember box", async () => {
      if (!(await s.server.store.users.findByUsername('root'))) await addUser(s, 'root', 'root-password', 'admin');
      const ctx = await newContext();
      try {
        const page = await ctx.newPage();
        await page.goto(authorizeUrl(s.https, { response_type: 'code', client_id: c.consumerKey, redirect_uri: callbackUrl, scope: 'manage', state: 'm', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }));
        await page.getByLabel('Username').fill('root');
        await page.getByLabel('Password').fill('root-password');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(/\/authorize\/consent\?/);
        const alert = page.getByRole('alert');
        expect((await alert.innerText()).replace(/\s+/g, ' ')).toContain("Manage Gatehouse as you: every user, application and API — an administrator's full power");
        const box = (await alert.boundingBox())!;
        expect(box.y + box.height).toBeLessThanOrEqual(844);
        expect(await page.getByLabel('Remember my decision for this application').count()).toBe(0);
        expect(await page.getByRole('button', { name: 'Approve' }).evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(155, 28, 28)');
        await page.screenshot({ path: shot('5-consent-manage'), fullPage: true });
        await page.getByRole('button', { name: 'Deny' }).click();
        await page.waitForURL((u) => u.href.startsWith(`${callbackUrl}?`));
        expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
      } finally {
        await ctx.close();
      }
    });

    it('deny: back to the client with error=access_denied and the state', async () => {
      const ctx = await newContext();
      try {
        const page = await ctx.newPage();
        await page.goto(authorizeUrl(s.https, { response_type: 'code', client_id: c.consumerKey, redirect_uri: callbackUrl, state: 'deny-state', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }));
        await page.getByLabel('Username').fill('alice');
        await page.getByLabel('Password').fill('correct horse');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(/\/authorize\/consent\?/);
        await page.getByRole('button', { name: 'Deny' }).click();
        await page.waitForURL((u) => u.href.startsWith(`${callbackUrl}?`));
        const cb = new URL(page.url()).searchParams;
        expect(cb.get('error')).toBe('access_denied');
        expect(cb.get('state')).toBe('deny-state');
        expect(cb.get('code')).toBeNull();
      } finally {
        await ctx.close();
      }
    });

    it('an unregistered redirect_uri stays on our error page', async () => {
      const ctx = await newContext();
      try {
        const page = await ctx.newPage();
        const res = await page.goto(authorizeUrl(s.https, { response_type: 'code', client_id: c.consumerKey, redirect_uri: 'https://evil.example/steal', state: 'x' }));
        expect(res?.status()).toBe(400);
        expect(new URL(page.url()).origin).toBe(s.https);
        expect(await page.locator('h1').textContent()).toBe('Invalid sign-in request');
        await page.screenshot({ path: shot('4-error'), fullPage: true });
      } finally {
        await ctx.close();
      }
    });
  });
});

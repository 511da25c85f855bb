import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, chromiumAvailable } from '../support/browser.js';
import { freeStablePort } from '../support/ports.js';
import { admin, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const available = chromiumAvailable();

/** A static page at its own loopback origin: the single-page app (or a stranger's page). */
async function pageServer(): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>App</title><h1>Single-page app</h1></html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { origin: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, close: () => new Promise((r) => server.close(() => r())) };
}

interface Fetched {
  ok: boolean;
  status?: number;
  json?: any;
  error?: string;
}

/** fetch() from inside the page, as the app's own script would; a CORS refusal is a TypeError. */
const postFrom = (page: Page, url: string, form: Record<string, string>): Promise<Fetched> =>
  page.evaluate(
    async ({ url, form }) => {
      try {
        const r = await fetch(url, { method: 'POST', body: new URLSearchParams(form) });
        return { ok: true, status: r.status, json: await r.json() };
      } catch (e) {
        return { ok: false, error: String(e) };
      }
    },
    { url, form },
  );

/**
 * Issue 12 item 5 in Chromium: a single-page app served from another loopback origin uses the
 * token service with fetch: discovery, an authorization code flow with PKCE (the code verifier
 * made with WebCrypto in the page), a refresh. A page at an origin no application registered
 * cannot use the same refresh token, and its attempt changes nothing.
 */
describe.skipIf(!available)('a browser app at another origin (CORS) in Chromium', () => {
  let s: TestServer;
  let spa: { origin: string; close: () => Promise<void> };
  let stranger: { origin: string; close: () => Promise<void> };
  let browser: Browser;
  let issuer: string;
  let app: TestClient;

  beforeAll(async () => {
    spa = await pageServer();
    stranger = await pageServer();
    const port = await freeStablePort();
    issuer = `http://127.0.0.1:${port}`;
    s = await startTestServer('sqlite', { listeners: { host: '127.0.0.1', portal: 0, https: 0, http: port }, oauth: { issuer } });
    app = await createClient(s, { owner: 'alice', password: 'correct horse', app: 'Dashboard SPA', callbackUrls: [`${spa.origin}/callback`], publicClient: true });
    await s.server.management.applications.update(admin, app.applicationId, { allowedOrigins: [spa.origin] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
    await spa?.close();
    await stranger?.close();
  });

  it('discovery, a PKCE code flow and a refresh with fetch; a stranger origin is refused', { timeout: 120_000 }, async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    await page.goto(`${spa.origin}/`);

    // Discovery from the app's origin.
    const meta = await page.evaluate(async (issuer) => (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json(), issuer);
    expect(meta.issuer).toBe(issuer);
    expect(meta.token_endpoint).toBe(`${issuer}/token`);
    expect(meta.code_challenge_methods_supported).toContain('S256');

    // The app makes its PKCE pair and sends the browser to the authorization endpoint.
    const authorize = await page.evaluate(
      async ({ endpoint, clientId, redirectUri }) => {
        const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
        const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
        sessionStorage.setItem('verifier', verifier);
        const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state: 'spa-state', code_challenge: challenge, code_challenge_method: 'S256' });
        return `${endpoint}?${q}`;
      },
      { endpoint: meta.authorization_endpoint as string, clientId: app.consumerKey, redirectUri: `${spa.origin}/callback` },
    );
    await page.goto(authorize);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${spa.origin}/callback?`), { timeout: 15_000 }).catch(async (e) => {
      throw new Error(`not back at the app: ${page.url()} ${logs.join(' | ')} ${(await page.content()).slice(-1500)}`, { cause: e });
    });
    const callback = new URL(page.url());
    expect(callback.searchParams.get('state')).toBe('spa-state');
    expect(callback.searchParams.get('iss')).toBe(issuer);

    // The code exchange, from the app's page.
    const exchanged = await page.evaluate(
      async ({ tokenEndpoint, clientId, redirectUri }) => {
        const r = await fetch(tokenEndpoint, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'authorization_code', code: new URLSearchParams(location.search).get('code')!, redirect_uri: redirectUri, client_id: clientId, code_verifier: sessionStorage.getItem('verifier')! }),
        });
        return { status: r.status, json: await r.json() };
      },
      { tokenEndpoint: meta.token_endpoint as string, clientId: app.consumerKey, redirectUri: `${spa.origin}/callback` },
    );
    expect(exchanged.status).toBe(200);
    expect(exchanged.json.token_type).toBe('Bearer');
    expect(typeof exchanged.json.refresh_token).toBe('string');

    // A page at an origin no application registered cannot use the refresh token...
    const other = await ctx.newPage();
    await other.goto(`${stranger.origin}/`);
    const refused = await postFrom(other, meta.token_endpoint, { grant_type: 'refresh_token', refresh_token: exchanged.json.refresh_token, client_id: app.consumerKey });
    expect(refused).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });

    // ...and its attempt changed nothing: the app refreshes with the same refresh token.
    const refreshed = await postFrom(page, meta.token_endpoint, { grant_type: 'refresh_token', refresh_token: exchanged.json.refresh_token, client_id: app.consumerKey });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.access_token).not.toBe(exchanged.json.access_token);

    // The new access token works, seen from the app with revocation (also cross-origin).
    const revoked = await page.evaluate(
      async ({ url, token, clientId }) => (await fetch(url, { method: 'POST', body: new URLSearchParams({ token, client_id: clientId }) })).status,
      { url: `${issuer}/revoke`, token: refreshed.json.refresh_token as string, clientId: app.consumerKey },
    );
    expect(revoked).toBe(200);
    await ctx.close();
  });
});

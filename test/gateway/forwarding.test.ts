import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayApi } from '../../src/gateway/types.js';
import { MemoryStore } from './support/memory-store.js';
import { rawCall, startBackend, startGateway, type TestBackend, type TestGateway } from './support/servers.js';

/**
 * Issue 11 item 6: what a backend may believe about the client. The client's own forwarding
 * headers never reach it; only a configured trusted proxy's X-Forwarded-* are extended.
 */
let backend: TestBackend;
let store: MemoryStore;
let api: GatewayApi;
let direct: TestGateway;
let behindProxy: TestGateway;
let tok: string;

const jwt = { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k', alg: 'ES256' as const, issuer: 'https://gatehouse.test', ttlSeconds: 900 };

beforeAll(async () => {
  backend = await startBackend('production');
  store = new MemoryStore();
  api = store.addApi({ name: 'Fwd', context: '/fwd', version: 'v1', productionUrl: backend.url, sendJwt: true });
  const t = store.addToken();
  tok = t.token;
  store.subscribe(t.info.applicationId, api.id, 'Unlimited');
  direct = await startGateway(store, { jwt });
  // the test client connects from 127.0.0.1: here it plays the trusted reverse proxy
  behindProxy = await startGateway(store, { jwt, trustedProxies: ['127.0.0.0/8', '::1'] });
});

afterAll(async () => {
  await Promise.all([direct?.close(), behindProxy?.close()]);
  await backend?.close();
});

/** What the attacker sends along with a valid token. */
const FORGED = [
  'Forwarded', 'for=6.6.6.6;host=evil.example;proto=https',
  'X-Forwarded-For', '6.6.6.6',
  'X-Forwarded-Proto', 'https',
  'X-Forwarded-Host', 'evil.example',
  'X-Real-IP', '6.6.6.6',
  'X-Original-URL', '/admin',
  'X-Rewrite-URL', '/admin',
  'X-Client-IP', '6.6.6.6',
  'True-Client-IP', '6.6.6.6',
  'X_JWT_Assertion', 'forged',
  'X_Forwarded_For', '6.6.6.6',
  'X-Custom_Header', 'x',
];

const namesSeen = (raw: string[]) => raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());

describe('forwarding headers', () => {
  it('the attacker: forged Forwarded, X-Real-IP, X-Original-URL, X-Rewrite-URL, X-Forwarded-*, and underscore names never reach the backend', async () => {
    const r = await rawCall(`${direct.url}/fwd/v1/who`, 'GET', ['Authorization', `Bearer ${tok}`, ...FORGED, 'X-Legit', 'kept']);
    expect(r.status).toBe(200);
    const echo = r.json();
    const names = namesSeen(echo.rawHeaders);
    for (const n of ['forwarded', 'x-real-ip', 'x-original-url', 'x-rewrite-url', 'x-client-ip', 'true-client-ip', 'x_jwt_assertion', 'x_forwarded_for', 'x-custom_header']) {
      expect(names, n).not.toContain(n);
    }
    expect(names.filter((n) => n.includes('_'))).toEqual([]);
    // the peer, never the client's word
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers['x-forwarded-proto']).toBe('http');
    expect(echo.headers['x-forwarded-host']).toBe(`127.0.0.1:${direct.port}`);
    // exactly one assertion, the gateway's (a WSGI backend would have read "forged,<jwt>")
    expect(names.filter((n) => n === 'x-jwt-assertion')).toHaveLength(1);
    expect(echo.headers['x-jwt-assertion']).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(echo.headers['x-legit']).toBe('kept');
  });

  it("Gatehouse's own cookies (the portal's session and CSRF cookies, the login session) never reach the backend; the API's own do", async () => {
    // A browser sends the portal's cookies to the gateway too: cookies are scoped by host, not port.
    const r = await rawCall(`${direct.url}/fwd/v1/who`, 'GET', [
      'Authorization', `Bearer ${tok}`,
      'Cookie', '__Host-gatehouse_portal=portal-session; theme=dark; gatehouse_session=login-session',
      'Cookie', '__Host-gatehouse_csrf=csrf-token',
    ]);
    expect(r.status).toBe(200);
    const echo = r.json();
    expect(echo.headers.cookie).toBe('theme=dark');
    expect(JSON.stringify(echo.rawHeaders)).not.toMatch(/portal-session|login-session|csrf-token/);
  });

  it('the legitimate proxy: behind gateway.trustedProxies, X-Forwarded-For is appended to and its Proto/Host are kept', async () => {
    const r = await rawCall(`${behindProxy.url}/fwd/v1/who`, 'GET', [
      'Authorization', `Bearer ${tok}`,
      'X-Forwarded-For', '198.51.100.7',
      'X-Forwarded-For', '10.0.0.2',
      'X-Forwarded-Proto', 'https',
      'X-Forwarded-Host', 'api.example.com',
      'Forwarded', 'for=198.51.100.7',
      'X-Real-IP', '198.51.100.7',
    ]);
    const echo = r.json();
    expect(echo.headers['x-forwarded-for']).toBe('198.51.100.7, 10.0.0.2, 127.0.0.1');
    expect(echo.headers['x-forwarded-proto']).toBe('https');
    expect(echo.headers['x-forwarded-host']).toBe('api.example.com');
    // Forwarded is never passed (nor emitted): X-Forwarded-* carry it
    expect(namesSeen(echo.rawHeaders)).not.toContain('forwarded');
    expect(namesSeen(echo.rawHeaders)).not.toContain('x-real-ip');
  });

  it('a trusted proxy that sends no X-Forwarded-* gets the peer and this hop\'s values', async () => {
    const echo = (await rawCall(`${behindProxy.url}/fwd/v1/who`, 'GET', ['Authorization', `Bearer ${tok}`])).json();
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers['x-forwarded-proto']).toBe('http');
    expect(echo.headers['x-forwarded-host']).toBe(`127.0.0.1:${behindProxy.port}`);
  });

  it('an invalid gateway.trustedProxies entry is refused when the gateway is created', async () => {
    await expect(startGateway(store, { trustedProxies: ['10.0.0.0/40'] })).rejects.toThrow(/gateway\.trustedProxies: "10\.0\.0\.0\/40"/);
  });
});

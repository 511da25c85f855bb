import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeViaForms, FormAgent } from '../support/authorize.js';
import { availableKinds } from '../support/databases.js';
import { freeStablePort } from '../support/ports.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();
const CB = 'https://client.example/callback';
const APP_CB = 'com.example.app:/oauth2redirect';

/**
 * openid-client 6 as a real third-party client: discovery from our RFC 8414 metadata, PKCE,
 * the code exchange (which checks state and RFC 9207 iss), refresh, introspection, revocation.
 * The issuer is the plain-HTTP listener, so the client runs with allowInsecureRequests.
 */
describe.each(kinds)('openid-client 6 against Gatehouse on %s', (kind) => {
  let s: TestServer;
  let issuer: string;
  let conf: TestClient;
  let pub: TestClient;
  const options = { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' as const };

  beforeAll(async () => {
    const port = await freeStablePort();
    issuer = `http://127.0.0.1:${port}`;
    s = await startTestServer(kind, { listeners: { host: '127.0.0.1', portal: 0, https: 0, http: port }, oauth: { issuer } });
    conf = await createClient(s, { owner: 'alice', password: 'correct horse', app: 'third-party', callbackUrls: [CB] });
    pub = await createClient(s, { owner: 'alice', app: 'native-app', callbackUrls: [APP_CB], publicClient: true });
  });
  afterAll(async () => s?.close());

  /** Builds the authorization URL with openid-client, lets "the user" sign in and approve, returns the callback URL. */
  async function authorize(config: oidc.Configuration, redirectUri: string, scope?: string) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    };
    if (scope) params.scope = scope;
    const url = oidc.buildAuthorizationUrl(config, params);
    expect(url.href.startsWith(`${issuer}/authorize?`)).toBe(true);
    const callback = new URL(await authorizeViaForms(new FormAgent(issuer), url.href));
    return { callback, verifier, state };
  }

  it('discovers the server from its metadata', async () => {
    const config = await oidc.discovery(new URL(issuer), conf.consumerKey, conf.consumerSecret, oidc.ClientSecretBasic(conf.consumerSecret), options);
    const m = config.serverMetadata();
    expect(m.issuer).toBe(issuer);
    expect(m.authorization_endpoint).toBe(`${issuer}/authorize`);
    expect(m.code_challenge_methods_supported).toEqual(['S256']);
    expect(m.supportsPKCE()).toBe(true);
  });

  it('confidential client: PKCE code flow, introspection, refresh, revocation', async () => {
    const config = await oidc.discovery(new URL(issuer), conf.consumerKey, conf.consumerSecret, oidc.ClientSecretBasic(conf.consumerSecret), options);
    const { callback, verifier, state } = await authorize(config, CB, 'PRODUCTION orders:read');
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('PRODUCTION orders:read');
    expect(tokens.expiresIn()).toBeGreaterThan(3500);
    expect(tokens.refresh_token).toBeTruthy();

    const info = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(info).toMatchObject({ active: true, client_id: conf.consumerKey, username: 'alice', scope: 'PRODUCTION orders:read' });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.scope).toBe('PRODUCTION orders:read');

    await oidc.tokenRevocation(config, refreshed.refresh_token!, { token_type_hint: 'refresh_token' });
    for (const t of [tokens.access_token, refreshed.access_token]) expect((await oidc.tokenIntrospection(config, t)).active).toBe(false);
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('a replayed callback is refused and revokes what the code gave', async () => {
    const config = await oidc.discovery(new URL(issuer), conf.consumerKey, conf.consumerSecret, oidc.ClientSecretPost(conf.consumerSecret), options);
    const { callback, verifier, state } = await authorize(config, CB);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    await expect(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
  });

  it('the client checks state and iss (RFC 9207) on our callback before it calls us', async () => {
    const config = await oidc.discovery(new URL(issuer), conf.consumerKey, conf.consumerSecret, oidc.ClientSecretBasic(conf.consumerSecret), options);
    const { callback, verifier, state } = await authorize(config, CB);
    const cause = (e: unknown) => String((e as { cause?: { message?: string } }).cause?.message);
    const wrongState = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'another' }).catch(cause);
    expect(wrongState).toMatch(/"state"/);
    const mixedUp = new URL(callback);
    mixedUp.searchParams.set('iss', 'https://attacker.example');
    expect(await oidc.authorizationCodeGrant(config, mixedUp, { pkceCodeVerifier: verifier, expectedState: state }).catch(cause)).toMatch(/"iss"/);
    // Neither refusal reached us: the genuine callback still works.
    expect((await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })).access_token).toBeTruthy();
  });

  it('public client (token_endpoint_auth_method none): code flow, refresh and revocation', async () => {
    const config = await oidc.discovery(new URL(issuer), pub.consumerKey, { token_endpoint_auth_method: 'none' }, oidc.None(), options);
    const { callback, verifier, state } = await authorize(config, APP_CB);
    expect(callback.protocol).toBe('com.example.app:');
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.scope).toBe('default');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    await oidc.tokenRevocation(config, refreshed.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Without the verifier the same kind of code is refused.
    const second = await authorize(config, APP_CB);
    await expect(oidc.authorizationCodeGrant(config, second.callback, { expectedState: second.state })).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

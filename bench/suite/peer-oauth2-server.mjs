// Peer: @node-oauth/oauth2-server 5 in its fastest in-memory setup: the library's token handler
// behind a bare node:http server (the library is framework-agnostic; node:http measured faster
// than fastify 5 + formbody around it), a model of plain Maps keyed by the raw token, one
// client_secret_basic client with client_credentials, password, refresh_token and
// authorization_code. Library defaults otherwise: opaque tokens from its own generator
// (crypto.randomBytes(32) as hex), refresh rotation on (alwaysIssueNewRefreshToken), access
// tokens for 3600 s. The password grant's getUser verifies an argon2id hash with Gatehouse's
// parameters (src/crypto/password.ts), so that grant costs what Gatehouse's costs to verify.
// The library has no introspection or revocation endpoint: only token scenarios.
// Forked by the suite; over IPC it mints authorization codes, refresh and access tokens
// through the model (no HTTP).
import { hash as sha, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { hash, verify } from '@node-rs/argon2';
import OAuth2Server from '@node-oauth/oauth2-server';

const { Request, Response } = OAuth2Server;
const clientId = 'bench-o2s-client';
const clientSecret = randomBytes(24).toString('base64url');
const secretHash = sha('sha256', clientSecret, 'buffer');
const REDIRECT = 'https://client.example/cb';
const USER = 'bench-user';
const PASSWORD = 'bench-password-Correct-Horse-1';
const ARGON2 = { algorithm: 2 /* argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const ACCESS_TTL = 3600;
const REFRESH_TTL = 86400;

const client = { id: clientId, grants: ['client_credentials', 'password', 'refresh_token', 'authorization_code'], redirectUris: [REDIRECT] };
const user = { id: USER, username: USER, passwordHash: await hash(PASSWORD, ARGON2) };
const clientUser = { id: `client:${clientId}` };
const accessTokens = new Map();
const refreshTokens = new Map();
const codes = new Map();

const model = {
  async getClient(id, secret) {
    if (id !== clientId || secret == null) return undefined;
    const presented = sha('sha256', secret, 'buffer');
    return timingSafeEqual(presented, secretHash) ? client : undefined;
  },
  async getUserFromClient() { return clientUser; },
  async getUser(username, password) {
    if (username !== user.username) return undefined;
    try { return (await verify(user.passwordHash, password)) ? user : undefined; } catch { return undefined; }
  },
  async saveToken(token, c, u) {
    const saved = { ...token, client: c, user: u };
    accessTokens.set(token.accessToken, saved);
    if (token.refreshToken) refreshTokens.set(token.refreshToken, saved);
    return saved;
  },
  async getAccessToken(t) { return accessTokens.get(t); },
  async getRefreshToken(t) { return refreshTokens.get(t); },
  async revokeToken(token) { return refreshTokens.delete(token.refreshToken); },
  async saveAuthorizationCode(code, c, u) {
    const saved = { ...code, client: c, user: u };
    codes.set(code.authorizationCode, saved);
    return saved;
  },
  async getAuthorizationCode(code) { return codes.get(code); },
  async revokeAuthorizationCode(code) { return codes.delete(code.authorizationCode); },
};

const oauth = new OAuth2Server({ model, accessTokenLifetime: ACCESS_TTL, refreshTokenLifetime: REFRESH_TTL, alwaysIssueNewRefreshToken: true });

function send(res, status, headers, body) {
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url.split('?')[0] !== '/token') return send(res, 404, {}, { error: 'not_found' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const request = new Request({ method: req.method, headers: req.headers, query: {}, body });
    const response = new Response({});
    try {
      await oauth.token(request, response);
    } catch {
      // The handler has put the error (status, WWW-Authenticate, body) on the response.
    }
    send(res, response.status, response.headers, response.body);
  });
});

/** n fresh credentials of one kind, saved through the model (no HTTP). */
async function mint(kind, n) {
  const now = Date.now();
  const out = [];
  for (let i = 0; i < n; i++) {
    const value = randomBytes(32).toString('hex');
    out.push(value);
    if (kind === 'code') {
      await model.saveAuthorizationCode({ authorizationCode: value, expiresAt: new Date(now + 600_000), redirectUri: REDIRECT }, client, user);
    } else {
      await model.saveToken({
        accessToken: kind === 'access' ? value : randomBytes(32).toString('hex'), accessTokenExpiresAt: new Date(now + ACCESS_TTL * 1000),
        ...(kind === 'refresh' ? { refreshToken: value, refreshTokenExpiresAt: new Date(now + REFRESH_TTL * 1000) } : {}),
      }, client, user);
    }
  }
  return out;
}

process.on('message', async (msg) => {
  try {
    if (msg.op === 'mint') process.send({ id: msg.id, values: await mint(msg.kind, msg.n) });
  } catch (err) {
    process.send({ id: msg.id, error: err.stack });
  }
});
server.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  process.send({
    ready: true, pid: process.pid, http: url, basic: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    redirectUri: REDIRECT, username: USER, password: PASSWORD,
  });
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { server.close(() => process.exit(0)); server.closeAllConnections(); });

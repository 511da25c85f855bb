// Peer: oidc-provider 9 in its fastest in-memory setup: a plain Map adapter (its own memory
// adapter is an LRU of 1000 entries, too few to hold pre-minted codes), one client_secret_basic
// client with client_credentials, authorization_code and refresh_token, opaque tokens, refresh
// rotation on (as Gatehouse), no id_token (the scope has no openid, like Gatehouse's tokens).
// Forked by the suite; over IPC it mints authorization codes and refresh tokens through the
// provider's own models (no interactions).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const store = new Map();
class MapAdapter {
  constructor(name) { this.name = name; }
  key(id) { return `${this.name}:${id}`; }
  async upsert(id, payload) {
    store.set(this.key(id), payload);
    if (payload.grantId) {
      const g = `grant:${payload.grantId}`;
      const list = store.get(g) ?? [];
      list.push(this.key(id));
      store.set(g, list);
    }
  }
  async find(id) { return store.get(this.key(id)); }
  async findByUid() { return undefined; }
  async findByUserCode() { return undefined; }
  async consume(id) { const p = store.get(this.key(id)); if (p) p.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) { for (const k of store.get(`grant:${grantId}`) ?? []) store.delete(k); store.delete(`grant:${grantId}`); }
}

const clientId = 'bench-peer-client';
const clientSecret = randomBytes(24).toString('base64url');
const REDIRECT = 'https://client.example/cb';
const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const provider = new Provider('http://127.0.0.1', {
  adapter: MapAdapter,
  clients: [{
    client_id: clientId, client_secret: clientSecret,
    grant_types: ['client_credentials', 'authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  jwks: { keys: [{ ...jwk, kid: 'bench', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: ['bench-cookie-key-not-secret'] },
  ttl: { ClientCredentials: 3600, AccessToken: 3600, RefreshToken: 86400, AuthorizationCode: 600, Grant: 86400 },
  scopes: ['offline_access', 'default'],
  rotateRefreshToken: true,
  issueRefreshToken: async () => true,
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false }, introspection: { enabled: true }, revocation: { enabled: true } },
});
provider.on('server_error', (_ctx, err) => console.error('peer server_error', err));

async function mint(kind, n) {
  const client = await provider.Client.find(clientId);
  const out = [];
  for (let i = 0; i < n; i++) {
    const grant = new provider.Grant({ accountId: 'bench-user', clientId });
    grant.addOIDCScope('offline_access');
    const grantId = await grant.save();
    const common = { accountId: 'bench-user', client, grantId, scope: 'offline_access' };
    if (kind === 'code') out.push(await new provider.AuthorizationCode({ ...common, redirectUri: REDIRECT }).save());
    else if (kind === 'refresh') out.push(await new provider.RefreshToken({ ...common, gty: 'authorization_code' }).save());
    else out.push(await new provider.AccessToken({ ...common, gty: 'authorization_code' }).save());
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
const server = provider.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  process.send({ ready: true, pid: process.pid, http: url, basic: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, redirectUri: REDIRECT });
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => server.close(() => process.exit(0)));

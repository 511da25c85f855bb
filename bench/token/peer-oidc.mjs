// Peer reference: oidc-provider 9 with the in-memory adapter, one confidential client
// (client_secret_basic), the client_credentials grant and opaque access tokens.
// Run as a child process by run.mjs: `node peer-oidc.mjs <port> <client_id> <client_secret>`;
// prints one JSON line {"port":…} once listening.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
// A real signing key so the provider does not fall back to (and warn about) its dev keys.
const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [{ ...jwk, kid: 'bench', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: ['bench-cookie-key-not-secret'] },
  ttl: { ClientCredentials: 3600 }, // same lifetime as Gatehouse's application tokens
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    // No resource indicator is sent, so the ClientCredentials token is opaque (stored in the adapter).
  },
});
provider.on('server_error', (_ctx, err) => console.error('peer server_error', err));

const server = provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port, tokenEndpoint: `${issuer}/token` })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

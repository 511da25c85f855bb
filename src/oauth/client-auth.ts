import { secretMatchesHash, sha256 } from '../crypto/hash.js';
import type { Client } from '../store/applications.js';
import { invalidClient, invalidRequest } from './errors.js';
import type { Params } from './params.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface AuthenticatedClient {
  client: Client;
  method: ClientAuthMethod;
}

/** The narrow storage the client authenticator needs. */
export interface ClientLookup {
  findClient(consumerKey: string): Promise<Client | undefined>;
  /** When findClient may answer from a cache: the stored record now (a secret may have just changed). */
  findClientFresh?(consumerKey: string): Promise<Client | undefined>;
  /** Drops cached records (a key's secret, validity or application changed). */
  forget?(consumerKeys: readonly string[]): void;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Longer client ids are refused as unknown without a lookup (consumer keys are far shorter). */
export const MAX_CLIENT_ID_LENGTH = 128;
const DUMMY_HASH = sha256('gatehouse-no-such-client');

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined and base64-encoded. */
function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

/**
 * Reads `Authorization: Basic <credentials>`. Only the credentials token counts: anything
 * after a comma or a space is ignored, so the original WSO2 page's header
 * `Basic <b64>, Content-Type: application/x-www-form-urlencoded` still authenticates.
 */
export function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header) return undefined;
  const m = /^\s*basic\s+([^\s,]*)/i.exec(header);
  if (!m) return undefined;
  const token = m[1]!;
  if (!BASE64.test(token)) throw invalidClient('The Basic credentials are not valid base64.');
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('The Basic credentials must be consumer-key:consumer-secret.');
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw invalidClient('The Basic credentials are not validly form-urlencoded.');
  }
}

/**
 * Authenticates the calling client by HTTP Basic or by client_id/client_secret in the body
 * (never both), or identifies a public client by client_id alone.
 */
/** Why a client failed to authenticate: the `reason` of a client_authentication_failed line. */
export type ClientAuthFailure = 'no_credentials' | 'malformed_credentials' | 'unknown_client' | 'wrong_secret' | 'missing_secret' | 'secret_for_public_client';

/**
 * Reports a failed authentication. `clientId` is a consumer key that exists; for an unknown one
 * it is undefined and `presentedId` is what the caller sent, which is anything the caller typed
 * (a secret swapped with the key, say): never log it as it is.
 */
export type ClientAuthFailed = (clientId: string | undefined, reason: ClientAuthFailure, presentedId?: string) => void;

export async function authenticateClient(
  authorization: string | undefined,
  params: Params,
  clients: ClientLookup,
  failed: ClientAuthFailed = () => {},
): Promise<AuthenticatedClient> {
  let basic;
  try {
    basic = parseBasic(authorization);
  } catch (err) {
    failed(undefined, 'malformed_credentials');
    throw err;
  }
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');

  let id: string;
  let secret: string | undefined;
  let method: ClientAuthMethod;
  if (basic) {
    if (bodySecret !== undefined) throw invalidRequest('Use one client authentication method: HTTP Basic or client_secret in the body, not both.');
    if (bodyId !== undefined && bodyId !== basic.id) throw invalidRequest('client_id in the body differs from the one in the Authorization header.');
    ({ id, secret } = basic);
    method = 'client_secret_basic';
  } else if (bodyId !== undefined) {
    id = bodyId;
    secret = bodySecret;
    method = secret === undefined ? 'none' : 'client_secret_post';
  } else {
    failed(undefined, 'no_credentials');
    throw invalidClient('Client authentication is required: send Authorization: Basic base64(consumer-key:consumer-secret).');
  }

  // No consumer key is longer or has a NUL (PostgreSQL cannot even compare text with one).
  const client = id.length <= MAX_CLIENT_ID_LENGTH && !id.includes('\u0000') ? await clients.findClient(id) : undefined;
  if (!client) {
    if (secret !== undefined) secretMatchesHash(secret, DUMMY_HASH);
    failed(undefined, 'unknown_client', id);
    throw invalidClient();
  }
  if (client.secretHash === null) {
    // A public client proves nothing; presenting a secret for it is a mistake we refuse.
    if (secret !== undefined && secret !== '') {
      failed(id, 'secret_for_public_client');
      throw invalidClient();
    }
    return { client, method: 'none' };
  }
  if (secret !== undefined && secretMatchesHash(secret, client.secretHash)) return { client, method };
  // A cached record may predate a regenerated secret: check against the stored one before refusing.
  const fresh = clients.findClientFresh ? await clients.findClientFresh(id) : undefined;
  if (secret === undefined || fresh?.secretHash == null || !secretMatchesHash(secret, fresh.secretHash)) {
    failed(id, secret === undefined ? 'missing_secret' : 'wrong_secret');
    throw invalidClient();
  }
  return { client: fresh, method };
}

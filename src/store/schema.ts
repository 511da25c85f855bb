import type { Generated } from 'kysely';
import type { AuthorizationTables } from './schema-authorization.js';

/** Times are whole epoch seconds everywhere in the store. */
export type Epoch = number;
export type KeyType = 'PRODUCTION' | 'SANDBOX';

export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  created_at: Epoch;
}

export interface ApplicationsTable {
  id: string;
  owner_id: string;
  name: string;
  tier: string;
  /** JSON array of registered callback URLs. */
  callback_urls: string;
  description: string | null;
  created_at: Epoch;
}

export interface ConsumerKeysTable {
  consumer_key: string;
  application_id: string;
  key_type: KeyType;
  /** SHA-256 (base64url) of the consumer secret; null for a public client. */
  secret_hash: string | null;
  /** Validity of application tokens issued with this key; null means the configured default. */
  validity_seconds: number | null;
  created_at: Epoch;
}

interface TokenColumns {
  token_hash: string;
  /** Every token descending from one authorization shares the grant id (its lineage). */
  grant_id: string;
  consumer_key: string;
  application_id: string;
  subject: string;
  /** Local username when the subject is a local user. */
  username: string | null;
  scope: string;
  key_type: KeyType;
  grant_type: string;
  /** Identity provider entity ID for federated (SAML) subjects. */
  idp: string | null;
  issued_at: Epoch;
  expires_at: Epoch;
  revoked_at: Epoch | null;
}

export type AccessTokensTable = TokenColumns;

export interface RefreshTokensTable extends TokenColumns {
  /** Set once when rotated; a second presentation is reuse. */
  consumed_at: Epoch | null;
}

/** A grant (lineage) that was rotated or revoked: the per-grant lock and revocation mark. */
export interface GrantsTable {
  id: string;
  revoked_at: Epoch | null;
  updated_at: Epoch;
}

export interface LoginFailuresTable {
  username: string;
  failures: number;
  window_start: Epoch;
  locked_until: Epoch | null;
}

export type ApiStatus = 'CREATED' | 'PUBLISHED' | 'RETIRED';
export type SubscriptionStatus = 'ACTIVE' | 'BLOCKED';

export interface ApisTable {
  id: string;
  name: string;
  context: string;
  version: string;
  production_url: string;
  sandbox_url: string | null;
  /** JSON array of tier names the API offers. */
  tiers: string;
  status: ApiStatus;
  timeout_ms: number | null;
  /** 1 when the gateway passes the backend an X-JWT-Assertion. */
  send_jwt: number;
  created_at: Epoch;
}

export interface SubscriptionsTable {
  id: string;
  application_id: string;
  api_id: string;
  tier: string;
  status: SubscriptionStatus;
  created_at: Epoch;
}

export interface SamlIdpsTable {
  issuer: string;
  /** WSO2's "alias": one more accepted Audience and Recipient for the IdP; null: none. */
  alias: string | null;
  /** JSON array of PEM certificates (several during a key rollover). */
  certificates: string;
  /** JSON array of accepted Audience URIs; null: none registered (see 0006_saml_audiences). */
  audiences: string | null;
  created_at: Epoch;
}

export interface SamlAssertionsTable {
  issuer: string;
  assertion_id: string;
  not_on_or_after: Epoch;
}

export interface Database extends AuthorizationTables {
  saml_idps: SamlIdpsTable;
  saml_assertions: SamlAssertionsTable;
  apis: ApisTable;
  subscriptions: SubscriptionsTable;
  users: UsersTable;
  applications: ApplicationsTable;
  consumer_keys: ConsumerKeysTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  grants: GrantsTable;
  login_failures: LoginFailuresTable;
}

export type { Generated };

import type { KeyType } from '../../types.js';
import type { Epoch } from './common.js';

/** Users, applications, consumer keys, tokens, lock-out counters (migration 0001). */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  created_at: Epoch;
  /** Set while an admin has locked the account (0008). */
  locked_at: Epoch | null;
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
  /** JSON array of browser origins allowed to call the token endpoints with CORS (0008). */
  allowed_origins: string;
  /** 1 when the application is a resource server that may introspect every token (0008). */
  introspect_all: number;
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

export interface LoginFailuresTable {
  /** The sign-in name's keyed hash (LockoutStore.keyOf), never the name (0015). */
  name_key: string;
  failures: number;
  window_start: Epoch;
  locked_until: Epoch | null;
}

/** Where a user signed in lately: a keyed hash of an address or session (0011). */
export interface SignInOriginsTable {
  user_id: string;
  origin: string;
  last_seen: Epoch;
}

export interface CoreTables {
  users: UsersTable;
  applications: ApplicationsTable;
  consumer_keys: ConsumerKeysTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  login_failures: LoginFailuresTable;
  sign_in_origins: SignInOriginsTable;
}

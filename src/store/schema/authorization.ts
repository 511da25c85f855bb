import type { Epoch } from './common.js';

/** A one-time authorization code (RFC 6749 §4.1.2): only its SHA-256 is stored. */
export interface AuthorizationCodesTable {
  code_hash: string;
  /** The grant id the tokens issued for this code get, so reuse can revoke them all. */
  grant_id: string;
  consumer_key: string;
  application_id: string;
  redirect_uri: string;
  /** 1 when redirect_uri was in the authorization request (then /token requires the same value). */
  redirect_uri_sent: number;
  code_challenge: string | null;
  code_challenge_method: string | null;
  subject: string;
  username: string | null;
  scope: string;
  issued_at: Epoch;
  expires_at: Epoch;
  /** Set once by the exchange that wins; a second presentation is reuse. */
  consumed_at: Epoch | null;
}

/** A browser's sign-in session at /authorize: the cookie value is stored only as SHA-256. */
export interface LoginSessionsTable {
  id: string;
  token_hash: string;
  /** Synchronizer CSRF token of every form in this session. */
  csrf_token: string;
  user_id: string | null;
  username: string | null;
  authenticated_at: Epoch | null;
  created_at: Epoch;
  expires_at: Epoch;
}

/** An authorization request waiting for the user's login and consent, bound to one session. */
export interface AuthorizationRequestsTable {
  id: string;
  session_id: string;
  consumer_key: string;
  redirect_uri: string;
  redirect_uri_sent: number;
  scope: string;
  state: string | null;
  code_challenge: string | null;
  code_challenge_method: string | null;
  /** Epoch milliseconds (rows stored before the per-session cap hold seconds and sort first); orders a session's requests. */
  created_at: number;
  expires_at: Epoch;
}

/** Scopes a user approved for an application with "remember my decision". */
export interface ConsentsTable {
  user_id: string;
  application_id: string;
  scope: string;
  updated_at: Epoch;
}

export interface AuthorizationTables {
  authorization_codes: AuthorizationCodesTable;
  login_sessions: LoginSessionsTable;
  authorization_requests: AuthorizationRequestsTable;
  consents: ConsentsTable;
}

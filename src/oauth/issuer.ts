import { uuidv7 } from '../crypto/random.js';
import type { Client } from '../store/applications.js';
import type { IssuedTokens, TokenRecord } from '../store/tokens.js';
import { formatScope } from './scope.js';
import type { TokenFormat } from './token-format.js';

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export interface IssueRequest {
  client: Client;
  subject: string;
  /** The local user who authorized the tokens; null when none did (application tokens, federated subjects). */
  username: string | null;
  scope: string[];
  grantType: string;
  idp?: string | null;
  accessTtl: number;
  /** Refresh token lifetime; omit for no refresh token. */
  refreshTtl?: number;
  /**
   * The refresh token's scope when it differs from the access token's: on a refresh that
   * narrows the scope, the new refresh token keeps the original one (RFC 6749 §6).
   */
  refreshScope?: string[];
  now: number;
}

/** What the issuer hands a grant: the records to persist and the response to send once they are. */
export interface Minted {
  tokens: IssuedTokens;
  response: TokenResponse;
}

/** A new grant (token lineage): time-ordered ids, so token inserts append to the grant index. */
export const newGrantId = (): string => uuidv7();

/**
 * Builds token pairs: the raw tokens for the response and the records (keyed by the token
 * format's lookup key) that the grant persists. It stores nothing itself: a grant builds,
 * then calls its storage once, so the trip of a token request touches each module once.
 */
export class TokenIssuer {
  constructor(private readonly format: TokenFormat) {}

  build(req: IssueRequest, grantId: string = newGrantId()): Minted {
    const scope = formatScope(req.scope);
    const base = {
      grantId,
      consumerKey: req.client.consumerKey,
      applicationId: req.client.applicationId,
      subject: req.subject,
      username: req.username,
      scope: req.scope,
      keyType: req.client.keyType,
      grantType: req.grantType,
      idp: req.idp ?? null,
      issuedAt: req.now,
      revokedAt: null,
    };
    const accessToken = this.format.generate(req.now);
    const access: TokenRecord = { ...base, tokenHash: this.format.key(accessToken), expiresAt: req.now + req.accessTtl };
    if (req.refreshTtl === undefined) {
      return { tokens: { access }, response: { access_token: accessToken, token_type: 'Bearer', expires_in: req.accessTtl, scope } };
    }
    const refreshToken = this.format.generate(req.now);
    const refresh: TokenRecord = { ...base, scope: req.refreshScope ?? req.scope, tokenHash: this.format.key(refreshToken), expiresAt: req.now + req.refreshTtl };
    // Key order of the JSON body: access_token, refresh_token, token_type, expires_in, scope.
    return {
      tokens: { access, refresh },
      response: { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: req.accessTtl, scope },
    };
  }
}

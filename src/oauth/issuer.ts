import { uuidv7 } from '../crypto/random.js';
import type { Client } from '../store/applications.js';
import type { TokenRecord, TokenStore } from '../store/tokens.js';
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

/** Mints token pairs: builds the records, stores their hashes, returns the response body. */
export class TokenIssuer {
  constructor(
    private readonly tokens: Pick<TokenStore, 'issue'>,
    private readonly format: TokenFormat,
  ) {}

  build(req: IssueRequest, grantId: string): { access: TokenRecord; refresh?: TokenRecord; response: TokenResponse } {
    const scope = formatScope(req.scope);
    const base = {
      grantId,
      consumerKey: req.client.consumerKey,
      applicationId: req.client.applicationId,
      subject: req.subject,
      username: req.username,
      scope,
      keyType: req.client.keyType,
      grantType: req.grantType,
      idp: req.idp ?? null,
      issuedAt: req.now,
      revokedAt: null,
    };
    const accessToken = this.format.generate();
    const access: TokenRecord = { ...base, tokenHash: this.format.key(accessToken), expiresAt: req.now + req.accessTtl };
    if (req.refreshTtl === undefined) {
      return { access, response: { access_token: accessToken, token_type: 'Bearer', expires_in: req.accessTtl, scope } };
    }
    const refreshToken = this.format.generate();
    const refreshScope = req.refreshScope === undefined ? scope : formatScope(req.refreshScope);
    const refresh: TokenRecord = { ...base, scope: refreshScope, tokenHash: this.format.key(refreshToken), expiresAt: req.now + req.refreshTtl };
    // Key order of the JSON body: access_token, refresh_token, token_type, expires_in, scope.
    return { access, refresh, response: { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: req.accessTtl, scope } };
  }

  /** Starts a new grant (a new lineage) and stores its first tokens. */
  async issue(req: IssueRequest): Promise<TokenResponse> {
    const { access, refresh, response } = this.build(req, uuidv7());
    await this.tokens.issue(access, refresh);
    return response;
  }
}

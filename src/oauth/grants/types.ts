import type { Config } from '../../config/schema.js';
import type { IssuedTokens } from '../../store/tokens.js';
import type { AuthenticatedClient } from '../client-auth.js';
import type { TokenResponse } from '../issuer.js';
import type { Params } from '../params.js';

/** What every grant receives: the authenticated client, its parameters, the clock and the caller's address. */
export interface GrantRequest {
  client: AuthenticatedClient;
  params: Params;
  now: number;
  address: string;
}

/**
 * One OAuth grant type behind one interface: the value of grant_type it answers, the
 * parameters it reads (any other is ignored, per RFC 6749 §3.2), whether public clients
 * may use it, and its handler. Each grant module builds one from the narrow services it needs.
 */
export interface Grant {
  readonly type: string;
  readonly parameters: ReadonlySet<string>;
  readonly allowsPublicClients: boolean;
  handle(req: GrantRequest): Promise<TokenResponse>;
}

/** The storage a grant that starts a new lineage needs: persist its first tokens. */
export interface NewGrantStorage {
  create(tokens: IssuedTokens): Promise<void>;
}

export type OAuthConfig = Config['oauth'];

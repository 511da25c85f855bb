import { DEFAULT_SCOPE, MANAGE_SCOPE } from './scope.js';
import type { OAuthService } from './service.js';

/**
 * The scope values with a meaning here: the key types (a token's scope names its key's type),
 * `default` (what a request without scope gets) and `manage` (the management API's). Other
 * scope tokens are granted as asked.
 */
export const SCOPES_SUPPORTED = ['PRODUCTION', 'SANDBOX', DEFAULT_SCOPE, MANAGE_SCOPE] as const;

/** RFC 8414 authorization server metadata: exactly what this server implements. */
export function serverMetadata(service: OAuthService): Record<string, unknown> {
  const iss = service.config.issuer;
  const grantTypes = [...service.grants.keys()];
  const publicClients = [...service.grants.values()].some((g) => g.allowsPublicClients);
  const authMethods = ['client_secret_basic', 'client_secret_post'];
  const meta: Record<string, unknown> = {
    issuer: iss,
    token_endpoint: `${iss}/token`,
    token_endpoint_auth_methods_supported: publicClients ? [...authMethods, 'none'] : authMethods,
    grant_types_supported: grantTypes,
    scopes_supported: [...SCOPES_SUPPORTED],
    response_types_supported: service.grants.has('authorization_code') ? ['code'] : [],
    revocation_endpoint: `${iss}/revoke`,
    revocation_endpoint_auth_methods_supported: publicClients ? [...authMethods, 'none'] : authMethods,
    introspection_endpoint: `${iss}/introspect`,
    introspection_endpoint_auth_methods_supported: authMethods,
  };
  if (service.grants.has('authorization_code')) {
    meta.authorization_endpoint = `${iss}/authorize`;
    meta.response_modes_supported = ['query'];
    meta.code_challenge_methods_supported = ['S256'];
    // RFC 9207: every authorization response carries iss (mix-up defence).
    meta.authorization_response_iss_parameter_supported = true;
  }
  return meta;
}

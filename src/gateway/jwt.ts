import { KeyObject, createPublicKey } from 'node:crypto';
import { SignJWT, exportJWK, type JWK } from 'jose';
import type { GatewayApi, GatewayOptions, TokenInfo } from './types.js';

export type JwtOptions = NonNullable<GatewayOptions['jwt']>;

/** WSO2 claim dialect, kept as-is so existing backends keep reading the same claims. */
export const WSO2_CLAIMS = 'http://wso2.org/claims/';

/**
 * JWKS `{keys:[...]}` with the public half of the gateway's JWT signing key,
 * for the lead to publish at /.well-known/jwks.json.
 */
export async function buildJwks(jwt: Pick<JwtOptions, 'privateKey' | 'kid' | 'alg'>): Promise<{ keys: JWK[] }> {
  const pk = jwt.privateKey;
  const keyObject = pk instanceof KeyObject ? pk : KeyObject.from(pk);
  const pub = keyObject.type === 'public' ? keyObject : createPublicKey(keyObject);
  const jwk = await exportJWK(pub);
  return { keys: [{ ...jwk, kid: jwt.kid, alg: jwt.alg, use: 'sig' }] };
}

/**
 * Builds the X-JWT-Assertion for one token × API. Claims: iss, iat, exp, sub
 * (endUser ?? subscriber) and WSO2's http://wso2.org/claims/{subscriber,
 * applicationname, applicationid, keytype, tier, enduser, apicontext, version}.
 * exp is min(iat + ttlSeconds, token expiry).
 */
export async function signAssertion(
  jwt: JwtOptions,
  token: TokenInfo,
  api: GatewayApi,
  tier: string,
  nowSeconds: number,
): Promise<{ jwt: string; exp: number }> {
  const exp = Math.max(nowSeconds + 1, Math.min(nowSeconds + jwt.ttlSeconds, token.expiresAt));
  const endUser = token.endUser ?? token.subscriber;
  const claims: Record<string, unknown> = {
    [WSO2_CLAIMS + 'subscriber']: token.subscriber,
    [WSO2_CLAIMS + 'applicationname']: token.applicationName,
    [WSO2_CLAIMS + 'applicationid']: token.applicationId,
    [WSO2_CLAIMS + 'keytype']: token.keyType,
    [WSO2_CLAIMS + 'tier']: tier,
    [WSO2_CLAIMS + 'enduser']: endUser,
    [WSO2_CLAIMS + 'apicontext']: api.context,
    [WSO2_CLAIMS + 'version']: api.version,
  };
  const signed = await new SignJWT(claims)
    .setProtectedHeader({ alg: jwt.alg, kid: jwt.kid, typ: 'JWT' })
    .setIssuer(jwt.issuer)
    .setSubject(endUser)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(exp)
    .sign(jwt.privateKey);
  return { jwt: signed, exp };
}

import { SignJWT } from 'jose';
import type { RateLimitedLog } from './log.js';
import type { GatewayApi, GatewayOptions, TokenInfo } from './types.js';

export type JwtOptions = NonNullable<GatewayOptions['jwt']>;

/** WSO2 claim dialect, kept as-is so existing backends keep reading the same claims. */
export const WSO2_CLAIMS = 'http://wso2.org/claims/';

/**
 * Builds the X-JWT-Assertion for one token × API. Claims: iss, iat, exp, aud (the API's
 * `/{context}/{version}`, so a backend can refuse an assertion made for another API), sub
 * (endUser ?? subscriber), idp (the identity provider's entity ID, for federated subjects only)
 * and WSO2's http://wso2.org/claims/{subscriber, applicationname, applicationid, keytype, tier,
 * enduser, apicontext, version}. A federated subject is qualified by its IdP in sub and enduser
 * (the store adapter sets endUser), so it never reads as a local username.
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
  if (token.idp !== undefined) claims.idp = token.idp;
  const signed = await new SignJWT(claims)
    .setProtectedHeader({ alg: jwt.alg, kid: jwt.kid, typ: 'JWT' })
    .setIssuer(jwt.issuer)
    .setSubject(endUser)
    .setAudience(`${api.context}/${api.version}`)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(exp)
    .sign(jwt.privateKey);
  return { jwt: signed, exp };
}

/** Where one token × API keeps its assertion (the gateway's binding of the token to the API). */
export interface AssertionSlot {
  jwt: string | undefined;
  /** epoch ms */
  jwtExp: number;
  /** epoch ms after which the assertion is re-signed in the background */
  jwtRefreshAt: number;
  jwtPending: Promise<string> | undefined;
}

/**
 * Keeps one assertion per token × API: reused while valid, re-signed in the background once
 * 80 % of its life is gone (so backends never get a nearly expired one), signed anew when it
 * has expired. Concurrent requests share one signing.
 */
export class AssertionSigner {
  constructor(
    private readonly options: JwtOptions,
    private readonly log: RateLimitedLog,
  ) {}

  /** The assertion to send now, or a promise of it when none is valid. */
  assertion(slot: AssertionSlot, info: TokenInfo, api: GatewayApi, tier: string, now: number): string | Promise<string> {
    if (slot.jwt !== undefined && slot.jwtExp > now + 1000) {
      if (slot.jwtRefreshAt <= now && slot.jwtPending === undefined) {
        this.sign(slot, info, api, tier).catch((err: unknown) => this.log.every('jwt', 30_000, 'gateway: JWT signing failed', err));
      }
      return slot.jwt;
    }
    return this.sign(slot, info, api, tier);
  }

  private sign(slot: AssertionSlot, info: TokenInfo, api: GatewayApi, tier: string): Promise<string> {
    if (slot.jwtPending !== undefined) return slot.jwtPending;
    const nowS = Math.floor(Date.now() / 1000);
    const p = signAssertion(this.options, info, api, tier, nowS).then(
      ({ jwt, exp }) => {
        slot.jwt = jwt;
        slot.jwtExp = exp * 1000;
        slot.jwtRefreshAt = (nowS + (exp - nowS) * 0.8) * 1000;
        slot.jwtPending = undefined;
        return jwt;
      },
      (err: unknown) => {
        slot.jwtPending = undefined;
        throw err;
      },
    );
    slot.jwtPending = p;
    return p;
  }
}

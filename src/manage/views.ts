import { X509Certificate } from 'node:crypto';
import type { Api, Application, AuditEvent, ConsumerKey, IdentityProvider, SubscriptionDetail, TokenRecord, User } from '../store/index.js';
import type { KeyType } from '../types.js';

/**
 * What the management service answers: plain JSON, the same for the CLI's --json, the admin
 * REST API and the portal. Times are ISO 8601 strings; no view ever holds a secret.
 */
export const iso = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString();

export interface UserView {
  username: string;
  role: string;
  locked: boolean;
  createdAt: string;
}

export const userView = (u: User): UserView => ({ username: u.username, role: u.role, locked: u.lockedAt !== null, createdAt: iso(u.createdAt) });

export interface ApplicationView {
  id: string;
  name: string;
  owner: string;
  tier: string;
  callbackUrls: string[];
  description: string | null;
  allowedOrigins: string[];
  introspectAll: boolean;
  createdAt: string;
}

export const applicationView = (a: Application): ApplicationView => ({
  id: a.id,
  name: a.name,
  owner: a.ownerUsername,
  tier: a.tier,
  callbackUrls: a.callbackUrls,
  description: a.description,
  allowedOrigins: a.allowedOrigins,
  introspectAll: a.introspectAll,
  createdAt: iso(a.createdAt),
});

/** A consumer key as it may be shown any time: never its secret. */
export interface KeyView {
  consumerKey: string;
  keyType: KeyType;
  public: boolean;
  validitySeconds: number | null;
  createdAt: string;
}

export const keyView = (k: ConsumerKey): KeyView => ({
  consumerKey: k.consumerKey,
  keyType: k.keyType,
  public: k.secretHash === null,
  validitySeconds: k.validitySeconds,
  createdAt: iso(k.createdAt),
});

export interface ApplicationDetail extends ApplicationView {
  keys: KeyView[];
}

/** The answer of the calls that make a secret: the only time it is ever shown. */
export interface IssuedKeys {
  consumerKey: string;
  /** Absent for a public client. */
  consumerSecret?: string;
  keyType: KeyType;
}

export interface ApiView {
  id: string;
  name: string;
  context: string;
  version: string;
  status: string;
  productionUrl: string;
  sandboxUrl: string | null;
  tiers: string[];
  timeoutMs: number | null;
  jwt: boolean;
  description: string | null;
  createdAt: string;
}

export const apiView = (a: Api): ApiView => ({
  id: a.id,
  name: a.name,
  context: a.context,
  version: a.version,
  status: a.status,
  productionUrl: a.productionUrl,
  sandboxUrl: a.sandboxUrl ?? null,
  tiers: a.tiers,
  timeoutMs: a.timeoutMs ?? null,
  jwt: a.sendJwt,
  description: a.description,
  createdAt: iso(a.createdAt),
});

export interface SubscriptionView {
  id: string;
  applicationId: string;
  apiId: string;
  tier: string;
  status: string;
  applicationName: string;
  owner: string;
  apiName: string;
  apiVersion: string;
  createdAt: string;
}

export const subscriptionView = (s: SubscriptionDetail): SubscriptionView => ({
  id: s.id,
  applicationId: s.applicationId,
  apiId: s.apiId,
  tier: s.tier,
  status: s.status,
  applicationName: s.applicationName,
  owner: s.owner,
  apiName: s.apiName,
  apiVersion: s.apiVersion,
  createdAt: iso(s.createdAt),
});

export interface CertificateView {
  subject: string;
  fingerprint256: string;
  validTo: string;
}

export interface IdentityProviderView {
  id: string;
  issuer: string;
  alias: string | null;
  /** The Audience values this node accepts from the IdP (its registered ones, else the defaults). */
  audiences: string[];
  /** The bearer Recipient values this node accepts. */
  recipients: string[];
  certificates: CertificateView[];
  createdAt: string;
}

export function identityProviderView(idp: IdentityProvider, accepted: { audiences: string[]; recipients: string[] }): IdentityProviderView {
  return {
    id: idp.id,
    issuer: idp.issuer,
    alias: idp.alias,
    audiences: accepted.audiences,
    recipients: accepted.recipients,
    certificates: idp.certificates.map((pem) => {
      const c = new X509Certificate(pem);
      return { subject: c.subject, fingerprint256: c.fingerprint256, validTo: new Date(c.validTo).toISOString() };
    }),
    createdAt: iso(idp.createdAt),
  };
}

/**
 * A live access token's metadata; `id` is its lookup key, never the token: the issue time's 10
 * hex digits then the token's base64url SHA-256, 53 characters (see oauth/token-format.ts).
 */
export interface TokenView {
  id: string;
  grantId: string;
  keyType: KeyType;
  grantType: string;
  subject: string;
  username: string | null;
  idp: string | null;
  scope: string[];
  issuedAt: string;
  expiresAt: string;
}

export const tokenView = (t: TokenRecord): TokenView => ({
  id: t.tokenHash,
  grantId: t.grantId,
  keyType: t.keyType,
  grantType: t.grantType,
  subject: t.subject,
  username: t.username,
  idp: t.idp,
  scope: t.scope,
  issuedAt: iso(t.issuedAt),
  expiresAt: iso(t.expiresAt),
});

/** A recorded change as the interfaces show it: the stored event with its time in ISO 8601. */
export type AuditEventView = Omit<AuditEvent, 'at'> & { at: string };

export const auditEventView = (e: AuditEvent): AuditEventView => ({
  id: e.id,
  at: new Date(e.at).toISOString(),
  actor: e.actor,
  actorKind: e.actorKind,
  via: e.via,
  address: e.address,
  operation: e.operation,
  targetType: e.targetType,
  targetId: e.targetId,
  detail: e.detail,
});

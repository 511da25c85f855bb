import Type, { type TSchema } from 'typebox';
import { MAX_CONTEXT_SEGMENTS } from '../types.js';

/**
 * The admin API's request and response shapes, in TypeBox (JSON Schema). They describe types
 * only: every rule (lengths, URL forms, tiers, roles) is the management service's, so the CLI
 * and the API answer the same input the same way. Response schemas mirror src/manage/views.ts
 * (fastify serialises by them: a field missing here would be dropped).
 */

const Nullable = <T extends TSchema>(t: T, options: { description?: string } = {}) => Type.Union([t, Type.Null()], options);
const Time = Type.String({ format: 'date-time' });
const Strings = Type.Array(Type.String());
const KeyTypeSchema = Type.Union([Type.Literal('PRODUCTION'), Type.Literal('SANDBOX')]);

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'urn:gatehouse:problem:<kind>' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    field: Type.Optional(Type.String({ description: 'the request field a validation error is about' })),
  },
  { title: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' },
);

export const pageOf = (item: TSchema, name: string) =>
  Type.Object({ items: Type.Array(item), next: Nullable(Type.String({ description: 'pass as ?cursor= for the next page' })) }, { description: `a page of ${name}` });

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ description: 'items per page (default 50, at most 200)' })),
    cursor: Type.Optional(Type.String({ description: 'the `next` of the previous page' })),
  },
  { additionalProperties: false },
);

export const withPage = (props: Record<string, TSchema>) => Type.Object({ ...PageQuery.properties, ...props }, { additionalProperties: false });

// ---------------------------------------------------------------- users

export const User = Type.Object({ username: Type.String(), role: Type.String(), locked: Type.Boolean(), createdAt: Time }, { title: 'User' });
export const CurrentUser = Type.Object({ username: Type.String(), role: Type.String() }, { title: 'CurrentUser' });
export const SignUpBody = Type.Object({ username: Type.String(), password: Type.String() }, { additionalProperties: false });
export const CreateUserBody = Type.Object(
  { username: Type.String(), password: Type.String(), role: Type.Optional(Type.String({ description: 'subscriber (default), publisher or admin' })) },
  { additionalProperties: false },
);
export const UpdateUserBody = Type.Object(
  { role: Type.Optional(Type.String()), locked: Type.Optional(Type.Boolean()), password: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export const UsernameParams = Type.Object({ username: Type.String() });

// ---------------------------------------------------------------- applications, keys, tokens

export const Application = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    owner: Type.String(),
    tier: Type.String(),
    callbackUrls: Strings,
    description: Nullable(Type.String()),
    allowedOrigins: Strings,
    introspectAll: Type.Boolean(),
    createdAt: Time,
  },
  { title: 'Application' },
);

export const Key = Type.Object(
  { consumerKey: Type.String(), keyType: KeyTypeSchema, public: Type.Boolean(), validitySeconds: Nullable(Type.Integer()), createdAt: Time },
  { title: 'Key' },
);

export const ApplicationDetail = Type.Object({ ...Application.properties, keys: Type.Array(Key) }, { title: 'ApplicationDetail' });

export const CreateApplicationBody = Type.Object(
  {
    name: Type.String(),
    callbackUrls: Type.Optional(Strings),
    tier: Type.Optional(Type.String()),
    description: Type.Optional(Nullable(Type.String())),
    allowedOrigins: Type.Optional(Type.Array(Type.String(), { description: 'browser origins that may call the token endpoints (CORS)' })),
    owner: Type.Optional(Type.String({ description: 'admins only: create it for another user' })),
    introspectAll: Type.Optional(Type.Boolean({ description: 'admins only: a resource server that may introspect every token' })),
  },
  { additionalProperties: false },
);

export const UpdateApplicationBody = Type.Object(
  {
    name: Type.Optional(Type.String()),
    callbackUrls: Type.Optional(Strings),
    tier: Type.Optional(Type.String()),
    description: Type.Optional(Nullable(Type.String())),
    allowedOrigins: Type.Optional(Strings),
    introspectAll: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ApplicationParams = Type.Object({ applicationId: Type.String() });
export const KeyParams = Type.Object({ applicationId: Type.String(), keyType: Type.String({ description: 'PRODUCTION or SANDBOX' }) });
export const TokenParams = Type.Object({ applicationId: Type.String(), tokenId: Type.String({ description: "a token's id as listApplicationTokens shows it" }) });

export const IssuedKeys = Type.Object(
  { consumerKey: Type.String(), consumerSecret: Type.Optional(Type.String({ description: 'shown only now; absent for a public client' })), keyType: KeyTypeSchema },
  { title: 'IssuedKeys' },
);
export const GenerateKeysBody = Type.Object(
  { validitySeconds: Type.Optional(Type.Integer()), public: Type.Optional(Type.Boolean({ description: 'a public client (no secret, PKCE)' })) },
  { additionalProperties: false },
);
export const UpdateKeysBody = Type.Object({ validitySeconds: Nullable(Type.Integer({ description: 'null: the server default' })) }, { additionalProperties: false });
export const UpdatedKey = Type.Object({ ...Key.properties, previousValiditySeconds: Nullable(Type.Integer()) });
export const RevokedKeyTokens = Type.Object({ consumerKey: Type.String(), keyType: KeyTypeSchema, revokedGrants: Type.Integer() });
export const AccessTokenBody = Type.Object({ validitySeconds: Type.Optional(Type.Integer()) }, { additionalProperties: false });
export const AccessToken = Type.Object({ accessToken: Type.String(), tokenType: Type.Literal('Bearer'), expiresIn: Type.Integer(), scope: Type.String(), keyType: KeyTypeSchema });

export const Token = Type.Object(
  {
    id: Type.String({
      description:
        "the token's lookup key, not a token (it authenticates nothing): the second the token was issued as 10 hex digits, then the token's " +
        'SHA-256 in base64url, 53 characters (a token issued without that time prefix: its SHA-256 alone, 43); what revokeApplicationToken takes',
    }),
    grantId: Type.String(),
    keyType: KeyTypeSchema,
    grantType: Type.String(),
    subject: Type.String(),
    username: Nullable(Type.String()),
    idp: Nullable(Type.String()),
    scope: Strings,
    issuedAt: Time,
    expiresAt: Time,
  },
  { title: 'Token' },
);

// ---------------------------------------------------------------- APIs and subscriptions

export const Api = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    context: Type.String(),
    version: Type.String(),
    status: Type.String({ description: 'CREATED, PUBLISHED or RETIRED' }),
    productionUrl: Type.String(),
    sandboxUrl: Nullable(Type.String()),
    tiers: Strings,
    timeoutMs: Nullable(Type.Integer()),
    jwt: Type.Boolean(),
    description: Nullable(Type.String()),
    createdAt: Time,
  },
  { title: 'Api' },
);

const apiFields = {
  name: Type.String(),
  context: Type.String({ description: `e.g. /weather: 1 to ${MAX_CONTEXT_SEGMENTS} path segments, a route no other API's overlaps` }),
  version: Type.String(),
  productionUrl: Type.String(),
  sandboxUrl: Type.Optional(Nullable(Type.String())),
  tiers: Type.Optional(Type.Array(Type.String(), { description: 'tier names (default: every configured tier)' })),
  timeoutMs: Type.Optional(Nullable(Type.Integer())),
  jwt: Type.Optional(Type.Boolean({ description: 'pass the backend an X-JWT-Assertion' })),
  description: Type.Optional(Nullable(Type.String())),
};
export const CreateApiBody = Type.Object(apiFields, { additionalProperties: false });
// Every field optional, and still no unknown field (Type.Partial drops additionalProperties: a typo in a PATCH was ignored).
export const UpdateApiBody = Type.Partial(CreateApiBody, { additionalProperties: false });
export const ApiParams = Type.Object({ apiId: Type.String() });

export const Subscription = Type.Object(
  {
    id: Type.String(),
    applicationId: Type.String(),
    apiId: Type.String(),
    tier: Type.String(),
    status: Type.String({ description: 'ACTIVE or BLOCKED' }),
    applicationName: Type.String(),
    owner: Type.String(),
    apiName: Type.String(),
    apiVersion: Type.String(),
    createdAt: Time,
  },
  { title: 'Subscription' },
);
export const CreateSubscriptionBody = Type.Object(
  { applicationId: Type.String(), apiId: Type.String(), tier: Type.Optional(Type.String({ description: 'one of the tiers the API offers (default: its first)' })) },
  { additionalProperties: false },
);
export const SubscriptionParams = Type.Object({ subscriptionId: Type.String() });

// ---------------------------------------------------------------- identity providers, audit

export const IdentityProvider = Type.Object(
  {
    id: Type.String(),
    issuer: Type.String(),
    alias: Nullable(Type.String()),
    audiences: Type.Array(Type.String(), { description: 'the Audience values accepted from this IdP' }),
    recipients: Type.Array(Type.String(), { description: 'the bearer Recipient values accepted' }),
    certificates: Type.Array(Type.Object({ subject: Type.String(), fingerprint256: Type.String(), validTo: Time })),
    createdAt: Time,
  },
  { title: 'IdentityProvider' },
);
export const CreateIdentityProviderBody = Type.Object(
  {
    issuer: Type.String({ description: "the IdP's entity ID" }),
    certificates: Type.Array(Type.String(), { description: 'PEM signing certificates (several during a rollover)' }),
    alias: Type.Optional(Nullable(Type.String())),
    audiences: Type.Optional(Strings),
  },
  { additionalProperties: false },
);
export const UpdateIdentityProviderBody = Type.Object(
  { certificates: Type.Optional(Strings), alias: Type.Optional(Nullable(Type.String())), audiences: Type.Optional(Strings) },
  { additionalProperties: false },
);
export const IdentityProviderParams = Type.Object({ identityProviderId: Type.String() });
export const RemovedIdentityProvider = Type.Object({ revokedGrants: Type.Integer() });

export const SigningKey = Type.Object(
  {
    generation: Type.Integer(),
    kid: Type.String(),
    alg: Type.String(),
    state: Type.Union([Type.Literal('signing'), Type.Literal('next'), Type.Literal('retiring'), Type.Literal('retired')], {
      description: 'signing: signs X-JWT-Assertion now; next: published, signs after the next rotation; retiring: still published until publishedUntil; retired: no longer published',
    }),
    createdAt: Time,
    signsFrom: Nullable(Time),
    publishedUntil: Nullable(Time),
  },
  { title: 'SigningKey' },
);

export const SigningKeyRotation = Type.Object({ signing: SigningKey, next: SigningKey, retiring: SigningKey }, { title: 'SigningKeyRotation' });

export const Tier = Type.Object(
  {
    name: Type.String(),
    requests: Nullable(Type.Integer(), { description: 'calls allowed in any window of perSeconds; null: no limit' }),
    perSeconds: Nullable(Type.Integer(), { description: 'the window, in seconds; null: no limit' }),
    description: Type.String({ description: 'the limit in words, e.g. "5000 requests per minute" or "no limit"' }),
  },
  { title: 'Tier' },
);

export const RotateSigningKeysBody = Type.Object(
  { force: Type.Optional(Type.Boolean({ description: 'rotate although the next key was published less than the JWKS cache lifetime (300 s) ago' })) },
  { additionalProperties: false },
);

export const AuditEvent = Type.Object(
  {
    id: Type.Integer(),
    at: Time,
    actor: Type.String(),
    actorKind: Type.String(),
    via: Type.String(),
    address: Nullable(Type.String()),
    operation: Type.String(),
    targetType: Type.String(),
    targetId: Nullable(Type.String()),
    detail: Nullable(Type.Object({}, { additionalProperties: true })),
  },
  { title: 'AuditEvent' },
);

export { KeyTypeSchema as KeyType, Type };

import Type, { type Static } from 'typebox';

const Seconds = (def: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 10 * 365 * 86400, default: def, description });
const Port = (def: number) => Type.Integer({ minimum: 0, maximum: 65535, default: def });

const TierLimit = Type.Object(
  { requests: Type.Integer({ minimum: 1 }), perSeconds: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

/** Every key an operator may set, with its default. Unknown keys are refused at start. */
export const ConfigSchema = Type.Object(
  {
    portOffset: Type.Integer({ minimum: 0, maximum: 50000, default: 0 }),
    dataDir: Type.String({ minLength: 1, default: './data' }),
    listeners: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '0.0.0.0' }),
        /** Base ports; the port offset is added to each. 0 picks a free port (tests). */
        portal: Port(9443),
        https: Port(8243),
        http: Port(8280),
        /** Open connections per listener; beyond it new ones are closed at once. */
        maxConnections: Type.Integer({ minimum: 1, maximum: 1000000, default: 4096 }),
        /** Open connections per client address and listener (gateway.trustedProxies are exempt). */
        maxConnectionsPerAddress: Type.Integer({ minimum: 1, maximum: 1000000, default: 256 }),
        /** Time a client has to send a request's headers (then 408 and the connection is closed). */
        headersTimeoutMs: Type.Integer({ minimum: 1000, maximum: 600000, default: 20000 }),
        /** Time a client has to send a whole request, body included. */
        requestTimeoutMs: Type.Integer({ minimum: 1000, maximum: 3600000, default: 120000 }),
        /** Idle time of a keep-alive connection between requests. */
        keepAliveTimeoutMs: Type.Integer({ minimum: 1000, maximum: 600000, default: 72000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    tls: Type.Object(
      { cert: Type.Optional(Type.String({ minLength: 1 })), key: Type.Optional(Type.String({ minLength: 1 })) },
      { additionalProperties: false, default: {} },
    ),
    database: Type.Object(
      {
        /** postgres://… selects PostgreSQL; absent means SQLite at <dataDir>/gatehouse.db. */
        url: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
        /** PostgreSQL schema (search_path) to use; created if missing. */
        schema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
        poolSize: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
    redis: Type.Object({ url: Type.Optional(Type.String({ pattern: '^rediss?://' })) }, { additionalProperties: false, default: {} }),
    oauth: Type.Object(
      {
        /**
         * An origin (scheme, host, port), no path: RFC 8414 metadata for an issuer with a path
         * lives at /.well-known/oauth-authorization-server/<path>, which is not served.
         */
        issuer: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+/?$' })),
        accessTokenValidity: Seconds(3600, 'application (client_credentials) access tokens'),
        userAccessTokenValidity: Seconds(3600, 'user access tokens'),
        refreshTokenValidity: Seconds(86400, 'refresh tokens'),
        authorizationCodeValidity: Type.Integer({ minimum: 1, maximum: 600, default: 300 }),
        timestampSkew: Type.Integer({ minimum: 0, maximum: 3600, default: 300 }),
        refreshTokenReuseGrace: Type.Integer({ minimum: 0, maximum: 3600, default: 10 }),
        /** Seconds a node may answer client authentication from its cache (0: always read). */
        clientCacheTtl: Type.Integer({ minimum: 0, maximum: 300, default: 5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    security: Type.Object(
      {
        lockout: Type.Object(
          {
            maxFailures: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
            windowSeconds: Type.Integer({ minimum: 1, default: 900 }),
            lockSeconds: Type.Integer({ minimum: 1, default: 900 }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    cleanup: Type.Object(
      {
        intervalSeconds: Type.Integer({ minimum: 1, default: 300 }),
        batchSize: Type.Integer({ minimum: 1, maximum: 100000, default: 1000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    throttling: Type.Object(
      {
        tiers: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]*$' }), Type.Union([TierLimit, Type.Literal('unlimited')]), {
          default: {
            Gold: { requests: 5000, perSeconds: 60 },
            Silver: { requests: 2000, perSeconds: 60 },
            Bronze: { requests: 1000, perSeconds: 60 },
            Unlimited: 'unlimited',
          },
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    gateway: Type.Object(
      {
        tokenCacheTtl: Type.Integer({ minimum: 0, maximum: 86400, default: 300 }),
        negativeCacheTtl: Type.Integer({ minimum: 0, maximum: 3600, default: 10 }),
        apiCacheTtl: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
        backendTimeoutMs: Type.Integer({ minimum: 1, maximum: 600000, default: 30000 }),
        /** Lifetime of the X-JWT-Assertion passed to backends of APIs that ask for it. */
        jwtTtl: Type.Integer({ minimum: 30, maximum: 86400, default: 900 }),
        /** Proxies (addresses or CIDR ranges) whose X-Forwarded-For/-Proto/-Host are extended, not replaced. */
        trustedProxies: Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$' }), { maxItems: 256, default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** The saml2-bearer grant's verifier (src/saml/README.md): caps, worker pool, failure budget. */
    saml: Type.Object(
      {
        /** Cap on the decoded assertion, checked before any parsing or crypto. */
        maxAssertionBytes: Type.Integer({ minimum: 1024, maximum: 1048576, default: 16384 }),
        maxElements: Type.Integer({ minimum: 16, maximum: 100000, default: 512 }),
        maxAttributes: Type.Integer({ minimum: 16, maximum: 100000, default: 1024 }),
        /** Verification worker threads; absent: one per core beyond the first (1 to 4). */
        workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
        /** Assertions that may wait for a busy worker; beyond that 503 temporarily_unavailable. */
        queueSize: Type.Integer({ minimum: 0, maximum: 10000, default: 16 }),
        /** Failed saml2-bearer attempts per consumer key in any 60 s; beyond that 429. */
        maxFailuresPerMinute: Type.Integer({ minimum: 1, maximum: 1000, default: 30 }),
        /** More token endpoint URLs a bearer Recipient may name (e.g. behind a reverse proxy). */
        recipients: Type.Array(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 512 }), { maxItems: 32, default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      { level: Type.Union([Type.Literal('trace'), Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('fatal'), Type.Literal('silent')], { default: 'info' }) },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type ConfigInput = Static<typeof ConfigSchema>;

/** The validated configuration with everything derived from it resolved. */
export interface Config extends Omit<ConfigInput, 'oauth'> {
  oauth: ConfigInput['oauth'] & { issuer: string };
  /** Effective listening ports (base + offset, or 0 for a free port). */
  ports: { portal: number; https: number; http: number };
  /** Where the configuration came from, for the start-up log line. */
  source: string | undefined;
}

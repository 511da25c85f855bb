import Type, { type Static } from 'typebox';

const Seconds = (def: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 10 * 365 * 86400, default: def, description });
const Port = (def: number) => Type.Integer({ minimum: 0, maximum: 65535, default: def });
const Host = (def?: string) => Type.String({ minLength: 1, pattern: '^[^\\s/]+$', ...(def ? { default: def } : {}) });

/** The log levels pino knows, in order; the configuration accepts them in any case. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * RFC 9325 §4.2: TLS 1.3's suites, and for TLS 1.2 only ephemeral ECDH key exchange with AEAD
 * ciphers (no static RSA, no CBC, no SHA-1 MACs). The RSA and ECDSA forms serve either kind of
 * certificate.
 */
export const RFC9325_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** The tiers every node knows; `throttling.tiers` adds to them or overrides them (never removes). */
export const DEFAULT_TIERS = {
  Gold: { requests: 5000, perSeconds: 60 },
  Silver: { requests: 2000, perSeconds: 60 },
  Bronze: { requests: 1000, perSeconds: 60 },
  Unlimited: 'unlimited',
} as const satisfies Record<string, { requests: number; perSeconds: number } | 'unlimited'>;

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
        /** The address every listener binds unless it has a host of its own. */
        host: Host('0.0.0.0'),
        portalHost: Type.Optional(Host()),
        httpsHost: Type.Optional(Host()),
        httpHost: Type.Optional(Host()),
        /** Base ports; the port offset is added to each. 0 picks a free port (tests). */
        portal: Port(9443),
        https: Port(8243),
        /** `false` turns the plain-HTTP gateway listener off. */
        http: Type.Union([Port(8280), Type.Literal(false)], { default: 8280 }),
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
        /**
         * On SIGTERM, how long the node keeps serving with /health/ready at 503 before it closes
         * its listeners (time for a load balancer to take it out of rotation).
         */
        drainDelayMs: Type.Integer({ minimum: 0, maximum: 120000, default: 0 }),
      },
      { additionalProperties: false, default: {} },
    ),
    tls: Type.Object(
      {
        cert: Type.Optional(Type.String({ minLength: 1 })),
        key: Type.Optional(Type.String({ minLength: 1 })),
        /** RFC 9325: TLS 1.2 with ECDHE and AEAD suites only, or TLS 1.3. */
        minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], { default: 'TLSv1.2' }),
        /** OpenSSL cipher list: TLS 1.3 suite names (TLS_…) and TLS 1.2 specs, colon-separated. */
        ciphers: Type.String({ minLength: 1, default: RFC9325_CIPHERS }),
      },
      { additionalProperties: false, default: {} },
    ),
    database: Type.Object(
      {
        /** postgres://… selects PostgreSQL; absent means SQLite at <dataDir>/gatehouse.db. */
        url: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
        /** PostgreSQL schema (search_path) to use; created if missing. */
        schema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
        poolSize: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
        /** PostgreSQL: the longest wait for a connection (from the pool, or a new one's handshake). */
        connectTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 2000 }),
        /** PostgreSQL: statement_timeout of every statement (the client gives up 1 s later). */
        queryTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
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
        /** Accept plain-http callback URLs on non-loopback hosts (RFC 9700 §2.1 asks for TLS). */
        allowInsecureCallbacks: Type.Boolean({ default: false }),
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
            /** Days a successful sign-in's address or session stays trusted past a lock (0: never). */
            knownOriginDays: Type.Integer({ minimum: 0, maximum: 365, default: 30 }),
          },
          { additionalProperties: false, default: {} },
        ),
        /** Failed sign-ins allowed per client address and per login session in a window; then refused before hashing. */
        attempts: Type.Object(
          {
            perAddress: Type.Integer({ minimum: 0, default: 30 }),
            perSession: Type.Integer({ minimum: 0, default: 10 }),
            /** New /authorize login sessions (browsers without our cookie) per client address in a window. */
            sessionsPerAddress: Type.Integer({ minimum: 0, default: 60 }),
            windowSeconds: Type.Integer({ minimum: 1, maximum: 86400, default: 60 }),
          },
          { additionalProperties: false, default: {} },
        ),
        /** Password hashes at once (0: one per core, at most 3) and how many may wait; more is a 503. */
        passwordHashing: Type.Object(
          {
            concurrency: Type.Integer({ minimum: 0, maximum: 64, default: 0 }),
            queueSize: Type.Integer({ minimum: 0, maximum: 100000, default: 64 }),
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
        /** Added to (or overriding) DEFAULT_TIERS; the loaded configuration holds both. */
        tiers: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' }), Type.Union([TierLimit, Type.Literal('unlimited')]), { default: {} }),
      },
      { additionalProperties: false, default: {} },
    ),
    gateway: Type.Object(
      {
        tokenCacheTtl: Type.Integer({ minimum: 0, maximum: 86400, default: 300 }),
        /** Cap of the validated-token cache, MiB by estimate (README "Memory"); the node's largest cache. */
        tokenCacheMegabytes: Type.Integer({ minimum: 1, maximum: 4096, default: 16 }),
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
        /** Whether the grant gets a refresh token (WSO2 gave none unless configured). */
        refreshTokens: Type.Boolean({ default: false }),
        /**
         * How long a session from one assertion may last, from the exchange: no token (access or
         * refresh) outlives it. Absent: the assertion's own lifetime (its NotOnOrAfter).
         */
        maxSessionSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86400 })),
      },
      { additionalProperties: false, default: {} },
    ),
    portal: Type.Object(
      {
        /** Whether anyone may create a subscriber account (the Store's sign-up and the API's signUp). */
        selfSignUp: Type.Boolean({ default: true }),
        /**
         * Self sign-ups one client address (an IPv6 /64) may make per hour on a node; past it, 429
         * with Retry-After. 0: no limit.
         */
        signUpsPerHour: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 10 }),
        /** How long Try it waits for a call through the gateway, its whole response included, before it shows a 504. */
        tryItTimeoutMs: Type.Integer({ minimum: 1000, maximum: 120000, default: 15000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    audit: Type.Object(
      { retentionDays: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }) },
      { additionalProperties: false, default: {} },
    ),
    /** The key-encryption secret of the cluster's JWT signing keys (stored encrypted in the database). */
    keys: Type.Object(
      {
        /** At least 32 characters; the same on every node sharing the database (or GATEHOUSE_KEYS_SECRET). */
        secret: Type.Optional(Type.String({ minLength: 32, maxLength: 1024 })),
        /** A file whose content is the secret (instead of `secret`). Neither: <dataDir>/keys/keys-secret, made on first start. */
        secretFile: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
    cluster: Type.Object(
      {
        /** How often every node reads the change feed (a change made anywhere is in force within about this). */
        changePollMs: Type.Integer({ minimum: 50, maximum: 5000, default: 250 }),
        /**
         * While this node is not subscribed to the invalidation channel (Redis down), the gateway
         * serves no cached validation older than this many seconds.
         */
        degradedCacheTtl: Type.Number({ minimum: 0, maximum: 300, default: 5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)), { default: 'info' }),
        /** One line per gateway and token-service request (event "access"), whatever the level. */
        access: Type.Boolean({ default: false }),
      },
      { additionalProperties: false, default: {} },
    ),
    metrics: Type.Object(
      {
        /** host:port of a plain-HTTP listener of its own for /metrics (the portal no longer serves it); the port offset applies. */
        listen: Type.Optional(Type.String({ pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^\\s/:\\[\\]]+):[0-9]{1,5}$' })),
        /** A bearer token /metrics asks for (Authorization: Bearer …); 401 without it. */
        token: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type ConfigInput = Static<typeof ConfigSchema>;

/** The validated configuration with everything derived from it resolved. */
export interface Config extends Omit<ConfigInput, 'oauth'> {
  oauth: ConfigInput['oauth'] & { issuer: string };
  /** Effective listening ports (base + offset, or 0 for a free port); http is null when turned off, metrics unless metrics.listen. */
  ports: { portal: number; https: number; http: number | null; metrics: number | null };
  /** The address each listener binds (its own host, else listeners.host). */
  hosts: { portal: string; https: string; http: string; metrics: string | null };
  /** Where the configuration came from, for the start-up log line. */
  source: string | undefined;
}

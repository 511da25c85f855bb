import { createHmac, randomBytes } from 'node:crypto';
import { lruCache } from './memory.js';
import type { Logger } from 'pino';

/**
 * Security events: the one list of their names, and the one way to log them. Each is one
 * `warn` line with the same fields, always present (null when they do not apply):
 *
 *   event, client_id, user, subject, remote, reason
 *
 * plus a few extras per event (grant_id, idp, detail, repeated…). Never a password, secret,
 * token, code or assertion: the callers pass identifiers only. An identifier that was presented
 * but matched nothing (an unknown client id, a username no user has) is not an identifier: it may
 * be the secret or password typed into the wrong field. Callers pass those as `presented`, and the
 * line carries only their fingerprint (`client_id_fingerprint`, `user_fingerprint`) with
 * `client_id` / `user` null. The README's "Operating it" section documents the table below;
 * keep the two in step.
 */
export const SECURITY_EVENTS = {
  /** A name reached security.lockout.maxFailures failures in the window: it is locked for lockSeconds. */
  lockout_started: 'lock-out started',
  /** A lock ran out (reason expired), or a correct password from a known origin lifted it (signed_in). */
  lockout_ended: 'lock-out ended',
  /** The correct password of a locked name, refused because of the lock (someone else's guesses locked it). */
  lockout_refused_password: 'correct password refused during a lock-out',
  /** A consumed refresh token came back after the reuse grace: the whole grant was revoked. */
  refresh_token_reuse: 'refresh token reused: grant revoked',
  /** A used authorization code came back: every token of its grant was revoked. */
  authorization_code_reuse: 'authorization code reused: grant revoked',
  /** A saml2-bearer assertion was refused (reason: replay, expired, signature, …). */
  saml_assertion_refused: 'SAML assertion refused',
  /** A client failed to authenticate at /token, /revoke or /introspect (rate-limited lines). */
  client_authentication_failed: 'client authentication failed',
} as const;

export type SecurityEventName = keyof typeof SECURITY_EVENTS;

export interface SecurityEventFields {
  client_id?: string | null | undefined;
  user?: string | null | undefined;
  subject?: string | null | undefined;
  remote?: string | null | undefined;
  reason: string;
  /**
   * What the caller sent that matched no client or user: never logged as it is (it may be a
   * secret or a password in the wrong field), only as a fingerprint.
   */
  presented?: { client_id?: string | undefined; user?: string | undefined };
  /** Event-specific extras (identifiers and counts only). */
  extra?: Record<string, string | number | null>;
}

/** Where the token service reports security events; counting and logging are the sink's business. */
export interface SecurityEventSink {
  emit(event: SecurityEventName, fields: SecurityEventFields, opts?: { limitKey?: string }): void;
}

export const NO_SECURITY_EVENTS: SecurityEventSink = { emit() {} };

/** How often a rate-limited event (client authentication failures) may log for one client and address. */
export const LIMITED_EVENT_INTERVAL_MS = 60_000;

/** Identifiers a client sent may be anything: cut them to a length a log line can carry. */
const clip = (v: string | null | undefined): string | null => (v === undefined || v === null ? null : v.length > 128 ? `${v.slice(0, 128)}…` : v);

/** Hex characters of a fingerprint: 64 bits, enough to tell the values one log holds apart. */
export const FINGERPRINT_LENGTH = 16;

/** The fingerprint key of a node: derived from its keys secret, so every node sharing that secret agrees. */
export function fingerprintKey(keysSecret: Buffer): Buffer {
  return createHmac('sha256', keysSecret).update('gatehouse security-log fingerprint v1').digest();
}

/**
 * A presented value as the log may carry it: the first 16 hex characters of its HMAC-SHA-256
 * under the node's fingerprint key. The same value gives the same fingerprint (repeated attempts
 * can be told apart and counted), nothing leads back to it, and unlike a bare hash a guessed
 * password cannot be checked against the log without the keys secret.
 */
export function fingerprint(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, FINGERPRINT_LENGTH);
}

/**
 * Writes security events as `warn` lines and hands each to `count` (the metrics), rate-limited
 * lines included. An event given a `limitKey` logs at most once per key per interval; the next
 * line says how many were left out (`repeated`).
 */
export class SecurityLog implements SecurityEventSink {
  private readonly limited = lruCache<string, { at: number; skipped: number }>({ maxEntries: 10_000 });
  /** Until the node has read its keys secret (before any request): a key of this process. */
  private key: Buffer = randomBytes(32);

  constructor(
    private readonly logger: Logger | undefined,
    private readonly count: (event: SecurityEventName, reason: string) => void = () => {},
    private readonly intervalMs = LIMITED_EVENT_INTERVAL_MS,
  ) {}

  /** Fingerprints from now on under this key (`fingerprintKey(keys secret)`: the same on every node). */
  useFingerprintKey(key: Buffer): void {
    this.key = key;
  }

  emit(event: SecurityEventName, fields: SecurityEventFields, opts: { limitKey?: string } = {}): void {
    this.count(event, fields.reason);
    if (this.logger === undefined) return;
    let repeated: number | undefined;
    if (opts.limitKey !== undefined) {
      const now = Date.now();
      const seen = this.limited.get(opts.limitKey);
      if (seen !== undefined && now - seen.at < this.intervalMs) {
        seen.skipped++;
        return;
      }
      repeated = seen?.skipped ?? 0;
      this.limited.set(opts.limitKey, { at: now, skipped: 0 });
    }
    const presented = fields.presented;
    const line = {
      event,
      client_id: presented?.client_id !== undefined ? null : clip(fields.client_id),
      user: presented?.user !== undefined ? null : clip(fields.user),
      subject: clip(fields.subject),
      remote: fields.remote ?? null,
      reason: fields.reason,
      ...(presented?.client_id !== undefined ? { client_id_fingerprint: fingerprint(this.key, presented.client_id) } : {}),
      ...(presented?.user !== undefined ? { user_fingerprint: fingerprint(this.key, presented.user) } : {}),
      ...fields.extra,
      ...(repeated !== undefined ? { repeated } : {}),
    };
    this.logger.warn(line, `security: ${SECURITY_EVENTS[event]} (${fields.reason})`);
  }
}

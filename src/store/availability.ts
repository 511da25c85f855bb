import { Unavailable } from '../errors.js';

/** Seconds a client is told to wait (Retry-After) while the database is down: one probe interval. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

/**
 * The database cannot be reached (refused, reset, timed out) or is known to be down. Every
 * interface answers it as its documented 503 (with Retry-After); it is never logged per
 * request: the circuit writes one line when the outage starts and one when it ends.
 */
export class DatabaseUnavailable extends Unavailable {
  override name = 'DatabaseUnavailable';
  constructor(detail: string, cause?: unknown) {
    super('The database cannot be reached right now; retry shortly.', reportedOnce(detail, cause));
  }
}

/** A database refusal answered as 503 with Retry-After, logged by its source once, never per request. */
function reportedOnce(detail: string, cause: unknown) {
  return { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, reported: true, detail, ...(cause === undefined ? {} : { cause }) };
}

/**
 * SQLite's write lock (or, in WAL recovery, its read lock) is held by another process past the
 * wait this one allows (`busy_timeout`): the `gatehouse` CLI or an operator's sqlite3 shell
 * writing to the same file. Answered as the documented 503 with Retry-After: 1, like an
 * outage; the database logs it (one warn line, `database_busy`, per episode), never the
 * handler that answers it.
 */
export class DatabaseBusy extends Unavailable {
  override name = 'DatabaseBusy';
  constructor(detail: string, cause?: unknown) {
    super('The database is busy; retry shortly.', reportedOnce(detail, cause));
  }
}

/** Whether a SQLite error is the lock of another connection (SQLITE_BUSY, SQLITE_LOCKED and their extended codes). */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

// Node's socket errors, and SQLSTATE classes 08 (connection exception) and 57P (operator
// intervention: shutdown, crash, cannot connect now), 53300 (too many connections).
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

export type FailureClass = 'down' | 'suspect' | 'slow' | undefined;

/**
 * What a driver error says about the database: `down` (it cannot be reached: refused, reset,
 * shut down), `suspect` (a wait ran out: the pool's acquire or the client's read timeout; the
 * database may only be busy, so the circuit probes before it opens), `slow` (the server
 * cancelled a statement at statement_timeout: up, but not answering in time), or undefined (an
 * ordinary error: constraint, syntax; the caller handles it).
 */
export function classify(err: unknown): FailureClass {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (SOCKET_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '53300') return 'down';
  if (code === '57014') return 'slow';
  if (/Connection terminated|connection is closed|Client has encountered a connection error|Connection ended/i.test(message)) return 'down';
  if (/timeout exceeded when trying to connect|Query read timeout|timeout expired/i.test(message)) return 'suspect';
  return undefined;
}

export interface CircuitEvents {
  /** The outage began (once per outage). */
  down(info: { reason: string }): void;
  /** A probe succeeded. */
  up(info: { downMs: number }): void;
}

/**
 * The database's availability as an in-memory flag. While it is down, every query fails at
 * once with DatabaseUnavailable instead of waiting behind a dead connection; a probe (a fresh
 * connection and `select 1`, each bounded) runs at once and then every `probeMs` until one
 * succeeds, and the flag turns back. A timeout alone does not open it: it asks for a probe,
 * and only a failed probe opens it (a busy pool is not an outage).
 */
export class DatabaseCircuit {
  private isUp = true;
  private since = 0;
  private probing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** How many outages began since start. */
  outages = 0;
  private readonly listeners: CircuitEvents[] = [];

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly probeMs = 1000,
  ) {}

  get up(): boolean {
    return this.isUp;
  }

  on(listener: CircuitEvents): void {
    this.listeners.push(listener);
  }

  /** Throws while the database is known to be down (the fail-fast path: no I/O). */
  check(): void {
    if (!this.isUp) throw new DatabaseUnavailable('the database is known to be down (circuit open)');
  }

  /** A driver error as what the caller should throw: DatabaseUnavailable for a connection failure, else itself. */
  translate(err: unknown): unknown {
    const cls = classify(err);
    if (cls === undefined) return err;
    const reason = (err as Error)?.message ?? String(err);
    if (cls === 'down') this.open(reason);
    else if (cls === 'suspect') this.suspect();
    return err instanceof DatabaseUnavailable ? err : new DatabaseUnavailable(reason, err);
  }

  /** Opens the circuit (a no-op while already open) and starts probing. */
  open(reason: string): void {
    if (this.markDown(reason)) this.runProbe();
  }

  private markDown(reason: string): boolean {
    if (this.closed || !this.isUp) return false;
    this.isUp = false;
    this.since = Date.now();
    this.outages++;
    for (const l of this.listeners) l.down({ reason });
    return true;
  }

  /** Probes now, without opening: a failed probe opens the circuit. */
  private suspect(): void {
    if (this.isUp) this.runProbe();
  }

  private runProbe(): void {
    if (this.closed || this.probing) return;
    clearTimeout(this.timer);
    this.probing = this.probe().then(
      () => {
        this.probing = undefined;
        if (!this.isUp) {
          this.isUp = true;
          const downMs = Date.now() - this.since;
          for (const l of this.listeners) l.up({ downMs });
        }
      },
      (err: unknown) => {
        this.probing = undefined;
        this.markDown((err as Error)?.message ?? String(err));
        if (this.closed) return;
        this.timer = setTimeout(() => this.runProbe(), this.probeMs);
        this.timer.unref();
      },
    );
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}

/** SQLite is a file: it is never "unreachable", so its circuit never opens. */
export function alwaysUp(): DatabaseCircuit {
  return new DatabaseCircuit(async () => {});
}

import type { Logger } from 'pino';
import { GatehouseError, worthLogging } from '../errors.js';
import type { ChangeStore } from '../store/changes.js';
import { parseChange, type ChangeSink } from './change.js';

/** Rows read per query; a longer backlog is read in further queries at once. */
const BATCH = 500;

/**
 * Follows the change feed: every `pollMs` it reads the rows after the last one it applied and
 * hands each change to the node's caches. Starting from the end of the feed is right: a node
 * that has just started has nothing cached yet. Rows are read in id order and ids commit in
 * that order (see ChangeStore), so no change can be skipped; while the database cannot be
 * read, the follower retries and resumes where it stopped (one warning per outage).
 */
export class ChangeFollower {
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private failingSince: number | undefined;
  private stopped = false;
  private warned = false;

  constructor(
    private readonly changes: Pick<ChangeStore, 'after' | 'lastId'>,
    private readonly sink: ChangeSink,
    private readonly opts: { pollMs: number; logger: Logger },
  ) {}

  async start(): Promise<void> {
    this.last = await this.changes.lastId();
    this.schedule();
  }

  /** Reads and applies what is new now (also what the timer does). */
  poll(): Promise<void> {
    this.polling ??= this.readAll().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling?.catch(() => {});
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poll().finally(() => this.schedule());
    }, this.opts.pollMs);
    this.timer.unref();
  }

  private async readAll(): Promise<void> {
    try {
      for (;;) {
        const rows = await this.changes.after(this.last, BATCH);
        for (const row of rows) {
          const change = parseChange(row.kind, row.payload);
          if (change) this.sink(change);
          else this.opts.logger.warn({ event: 'change_unknown', id: row.id, kind: row.kind }, 'change feed: a change this version does not know was skipped');
          this.last = row.id;
        }
        if (rows.length < BATCH) break;
      }
      if (this.failingSince !== undefined) {
        if (this.warned) this.opts.logger.info({ event: 'change_feed_recovered', downMs: Date.now() - this.failingSince }, 'change feed readable again');
        this.failingSince = undefined;
        this.warned = false;
      }
    } catch (err) {
      if (this.failingSince === undefined) {
        this.failingSince = Date.now();
        // A database outage has its own line (the store's circuit): this one is for anything else.
        this.warned = !(err instanceof GatehouseError && !worthLogging(err));
        if (this.warned) this.opts.logger.warn({ event: 'change_feed_unreadable', err: { message: (err as Error).message } }, 'change feed cannot be read; retrying (cached API and token decisions stay until their TTL)');
      }
    }
  }
}

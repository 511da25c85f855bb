import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';

/**
 * What the operator sees of a database outage: the gauge `gatehouse_database_up` (1/0), the
 * counter `gatehouse_database_outages_total`, one warn line when it begins (event
 * `database_down`) and one info line when a probe finds the database again (`database_up`);
 * on SQLite, statements refused because another process holds the lock (`database_busy`).
 */
export function reportDatabaseHealth(db: Db, registry: Registry, logger: Logger): void {
  const up = new Gauge({ name: 'gatehouse_database_up', help: 'Whether this node reaches its database (0 while it answers 503 for everything that needs it)', registers: [registry] });
  const outages = new Counter({ name: 'gatehouse_database_outages_total', help: 'Database outages this node has seen since it started', registers: [registry] });
  up.set(db.circuit.up ? 1 : 0);
  db.circuit.on({
    down: ({ reason }) => {
      up.set(0);
      outages.inc();
      logger.warn(
        { event: 'database_down', database: db.describe, reason },
        'database unreachable: requests that need it are answered 503 (Retry-After) until a probe reaches it again',
      );
    },
    up: ({ downMs }) => {
      up.set(1);
      logger.info({ event: 'database_up', database: db.describe, downMs }, 'database reachable again');
    },
  });
  // SQLite locked by another process: an expected, documented 503. Counted every time; one warn
  // line (no stack) at most every BUSY_LOG_INTERVAL_MS, saying how many were refused since the last.
  const busy = new Counter({ name: 'gatehouse_database_busy_total', help: 'Statements refused (503) because another process held the SQLite database\'s lock', registers: [registry] });
  let lastLine = 0;
  let refused = 0;
  db.onBusy(({ code, waitedMs }) => {
    busy.inc();
    refused++;
    const now = Date.now();
    if (lastLine !== 0 && now - lastLine < BUSY_LOG_INTERVAL_MS) return;
    lastLine = now;
    logger.warn(
      { event: 'database_busy', database: db.describe, code, waitedMs, refused },
      'database locked by another process (the gatehouse CLI, a sqlite3 shell?): writes are answered 503 (Retry-After: 1) until it lets go',
    );
    refused = 0;
  });
}

/** At most one database_busy line this often. */
export const BUSY_LOG_INTERVAL_MS = 10_000;

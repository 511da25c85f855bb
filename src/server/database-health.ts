import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';

/**
 * What the operator sees of a database outage: the gauge `gatehouse_database_up` (1/0), the
 * counter `gatehouse_database_outages_total`, one warn line when it begins (event
 * `database_down`) and one info line when a probe finds the database again (`database_up`).
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
}

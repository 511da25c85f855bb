import { Counter, Gauge, type Registry } from 'prom-client';
import { passwordQueueDepth } from '../crypto/password.js';

/** What the node's database pool reports (PostgreSQL; SQLite has one connection and never waits). */
export interface PoolStats {
  /** Queries waiting for a connection now. */
  waiting: number;
  /** Times a query had to wait for a connection, since start. */
  waits: number;
}

/**
 * Process, password-hashing and database-pool metrics, computed only when /metrics is scraped.
 * (prom-client's default metrics watch every garbage collection; measured on the gateway's hot
 * path, that tripled the time spent in GC, so we do not enable them.)
 *
 *  - gatehouse_process_cpu_seconds_total (counter), gatehouse_process_resident_memory_bytes,
 *    gatehouse_nodejs_heap_used_bytes, gatehouse_process_start_time_seconds
 *  - gatehouse_password_hash_queue: argon2 verifications waiting for a thread
 *  - gatehouse_database_pool_waiting, gatehouse_database_pool_waits_total
 */
export function processMetrics(registry: Registry, pool: () => PoolStats = () => ({ waiting: 0, waits: 0 })): void {
  const started = Date.now() / 1000;
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  /** A counter whose total is kept elsewhere (the process, the pool): read at scrape time. */
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  gauge('gatehouse_process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  gauge('gatehouse_nodejs_heap_used_bytes', 'V8 heap in use, in bytes.', () => process.memoryUsage().heapUsed);
  counter('gatehouse_process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  gauge('gatehouse_process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', () => started);
  gauge('gatehouse_password_hash_queue', 'Password (argon2) verifications waiting for a hashing thread.', passwordQueueDepth);
  gauge('gatehouse_database_pool_waiting', 'Database queries waiting for a pool connection now.', () => pool().waiting);
  counter('gatehouse_database_pool_waits_total', 'Database queries that had to wait for a pool connection (database.poolSize).', () => pool().waits);
}

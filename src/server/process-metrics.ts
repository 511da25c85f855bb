import { Gauge, type Registry } from 'prom-client';

/**
 * A few process gauges, computed only when /metrics is scraped. (prom-client's default
 * metrics watch every garbage collection; measured on the gateway's hot path, that tripled
 * the time spent in GC, so we do not enable them.)
 */
export function processMetrics(registry: Registry): void {
  const started = Date.now() / 1000;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('gatehouse_process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  gauge('gatehouse_nodejs_heap_used_bytes', 'V8 heap in use, in bytes.', () => process.memoryUsage().heapUsed);
  gauge('gatehouse_process_cpu_seconds', 'User and system CPU time spent so far, in seconds.', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  gauge('gatehouse_process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', () => started);
}

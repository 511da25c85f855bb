import type { Server, Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import { TrustedProxies } from '../gateway/proxies.js';
import type { Logger } from '../log.js';

/** How often Node checks the headers and request timeouts of open connections (its default is 30 s). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * The timeouts of one listener's HTTP server (node:http / node:https options): they apply to
 * every connection, checked every second. The headers timeout is capped at the request timeout
 * (Node refuses a larger one). On TLS the handshake gets the headers timeout too (Node's own
 * is 120 s): a connection that never finishes it is no HTTP connection yet, so neither the
 * headers timeout nor a stop's closing of idle connections would reach it.
 */
export function serverTimeouts(l: Config['listeners']): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number; handshakeTimeout: number } {
  const headersTimeout = Math.min(l.headersTimeoutMs, l.requestTimeoutMs);
  return {
    headersTimeout,
    requestTimeout: l.requestTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    handshakeTimeout: headersTimeout,
  };
}

const kAddress = Symbol('gatehouse.peer');
const kCounts = Symbol('gatehouse.peerCounts');
type CountedSocket = Socket & { [kAddress]?: string; [kCounts]?: Map<string, number> };

/** Bound once: `this` is the closed socket. */
function release(this: CountedSocket): void {
  const counts = this[kCounts]!;
  const addr = this[kAddress]!;
  const n = (counts.get(addr) ?? 1) - 1;
  if (n <= 0) counts.delete(addr);
  else counts.set(addr, n);
}

/**
 * Caps the open connections of one listener (`listeners.maxConnections`: Node closes any
 * beyond it at once) and of one client address on it (`listeners.maxConnectionsPerAddress`;
 * the addresses in `gateway.trustedProxies` are exempt, since every client behind a proxy
 * shares its address). A refused connection is closed without an answer (over TLS there is
 * none to give before the handshake) and logged at most once per 10 s per listener.
 */
export function limitConnections(server: Server, config: Pick<Config, 'listeners' | 'gateway'>, logger: Logger): void {
  const { maxConnections, maxConnectionsPerAddress } = config.listeners;
  const exempt = new TrustedProxies(config.gateway.trustedProxies);
  const counts = new Map<string, number>();
  let lastWarning = 0;
  const warn = (msg: string, address: string | undefined): void => {
    const now = Date.now();
    if (now - lastWarning < 10_000) return;
    lastWarning = now;
    logger.warn({ event: 'connection_refused', remote: address }, msg);
  };
  server.maxConnections = maxConnections;
  server.on('drop', (data?: { remoteAddress?: string }) => warn(`connection refused: ${maxConnections} connections open on this listener (listeners.maxConnections)`, data?.remoteAddress));
  server.on('connection', (socket: CountedSocket) => {
    const addr = socket.remoteAddress;
    if (addr === undefined || exempt.has(addr)) return;
    const n = (counts.get(addr) ?? 0) + 1;
    if (n > maxConnectionsPerAddress) {
      warn(`connection refused: ${maxConnectionsPerAddress} connections open from this address (listeners.maxConnectionsPerAddress)`, addr);
      socket.destroy();
      return;
    }
    counts.set(addr, n);
    socket[kAddress] = addr;
    socket[kCounts] = counts;
    socket.once('close', release);
  });
}

import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Issue 11 item 7. Connections that dribble one header line at a time and ignore the server's
 * FIN: before, the 408 half-closed them and nothing closed them for good (Node drops a timed-out
 * connection from its checks), so they stayed for ever. Now they are destroyed within the
 * headers timeout, the 1 s check interval and the 1 s linger after the 408, while a keep-alive
 * poller is served throughout; and connections are capped per listener and per client address.
 */
const listeners = (extra: Record<string, number>) => ({ listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0, ...extra } });

interface Dribbler { closedAt: number | undefined; got: string; stop(): void }

/** A client that sends a request line and then one header line every 500 ms, never ending its side. */
function dribble(port: number, secure: boolean, t0: number): Dribbler {
  const socket: net.Socket = secure
    ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, allowHalfOpen: true } as tls.ConnectionOptions)
    : net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const d: Dribbler = { closedAt: undefined, got: '', stop: () => socket.destroy() };
  let n = 0;
  socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n');
  const timer = setInterval(() => socket.write(`X-Slow-${n++}: 1\r\n`), 500);
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (d.got += chunk));
  socket.on('error', () => {});
  socket.on('close', () => {
    clearInterval(timer);
    d.closedAt = Date.now() - t0;
  });
  return d;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('slow connections', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', listeners({ headersTimeoutMs: 2000, requestTimeoutMs: 4000 }));
  });
  afterAll(async () => s?.close());

  it('the attacker: dribbling connections that ignore the FIN are closed for good; the keep-alive poller is served throughout', async () => {
    const t0 = Date.now();
    const slow = [
      ...Array.from({ length: 15 }, () => dribble(s.server.ports.http, false, t0)),
      ...Array.from({ length: 5 }, () => dribble(s.server.ports.https, true, t0)),
    ];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<net.Socket>();
    const polls: number[] = [];
    try {
      while (Date.now() - t0 < 7000) {
        polls.push(
          await new Promise<number>((resolve, reject) => {
            const req = http.get({ host: '127.0.0.1', port: s.server.ports.http, path: '/health/live', agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('socket', (sock) => sockets.add(sock));
            req.on('error', reject);
          }),
        );
        await sleep(500);
      }
      // headers timeout 2 s + check every 1 s + 1 s linger after the 408 + the next write (0.5 s)
      for (const d of slow) {
        expect(d.got).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(d.closedAt).toBeDefined();
        expect(d.closedAt!).toBeLessThan(6000);
      }
      // the legitimate client: every poll answered, on one keep-alive connection
      expect(polls.length).toBeGreaterThanOrEqual(10);
      expect(polls.every((p) => p === 200)).toBe(true);
      expect(sockets.size).toBe(1);
    } finally {
      for (const d of slow) d.stop();
      agent.destroy();
    }
  }, 20_000);

  it('the attacker: a TLS connection that never starts its handshake is closed after the headers timeout (Node alone waited 120 s)', async () => {
    const t0 = Date.now();
    const silent = net.connect({ port: s.server.ports.https, host: '127.0.0.1' });
    silent.on('error', () => {});
    await new Promise((r) => silent.once('connect', r));
    const closedAt = await new Promise<number>((r) => silent.once('close', () => r(Date.now() - t0)));
    expect(closedAt).toBeGreaterThanOrEqual(1900);
    expect(closedAt).toBeLessThan(4000);
  }, 10_000);
});

describe('connection caps', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { ...listeners({ maxConnectionsPerAddress: 3, maxConnections: 10 }), gateway: { trustedProxies: ['127.0.0.5'] } });
  });
  afterAll(async () => s?.close());

  /** Opens a connection from `from`; resolves with it once connected, and whether the server closed it within 300 ms. */
  async function open(from: string): Promise<{ socket: net.Socket; refused: boolean }> {
    const socket = net.connect({ port: s.server.ports.http, host: '127.0.0.1', localAddress: from });
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    const refused = await Promise.race([new Promise<boolean>((r) => socket.once('close', () => r(true))), sleep(300).then(() => false)]);
    return { socket, refused };
  }
  const served = async (socket: net.Socket): Promise<string> => {
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    return new Promise((r) => socket.once('data', (d) => r(String(d).split('\r\n')[0]!)));
  };

  it('the attacker: beyond listeners.maxConnectionsPerAddress from one address, connections are closed at once; other addresses are served', async () => {
    const all: { socket: net.Socket; refused: boolean }[] = [];
    const openAll = async (from: string, n: number) => {
      const got = [];
      for (let i = 0; i < n; i++) got.push(await open(from));
      all.push(...got);
      return got.map((c) => c.refused);
    };
    try {
      expect(await openAll('127.0.0.1', 3)).toEqual([false, false, false]);
      expect(await openAll('127.0.0.1', 1)).toEqual([true]);
      // the legitimate client on another address, and the attacker's own open connections, still work
      const other = await open('127.0.0.2');
      all.push(other);
      expect(other.refused).toBe(false);
      expect(await served(other.socket)).toBe('HTTP/1.1 200 OK');
      expect(await served(all[0]!.socket)).toBe('HTTP/1.1 200 OK');
      // a trusted proxy (gateway.trustedProxies) carries many clients: no per-address cap for it
      expect(await openAll('127.0.0.5', 5)).toEqual([false, false, false, false, false]);
      // 3 + 1 + 5 = 9 open: one more fits, then listeners.maxConnections (10) refuses any address
      expect(await openAll('127.0.0.3', 1)).toEqual([false]);
      expect(await openAll('127.0.0.4', 1)).toEqual([true]);
      // a closed connection frees its place
      all[1]!.socket.destroy();
      await sleep(100);
      expect(await openAll('127.0.0.1', 1)).toEqual([false]);
    } finally {
      for (const c of all) c.socket.destroy();
    }
  });
});

import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { createPublicKey, KeyObject } from 'node:crypto';
import { exportJWK } from 'jose';
import { createGateway, createGatewayMetrics, type Gateway, type GatewayMetrics } from '../../../src/gateway/index.js';
import { sha256 } from '../../../src/crypto/hash.js';
import type { GatewayOptions, GatewayStore } from '../../../src/gateway/types.js';

export interface Echo {
  backend: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  bodyBytes: number;
  bodySha256: string;
}

export interface TestBackend {
  name: string;
  url: string;
  port: number;
  /** 'upload-first-bytes' when /upload receives its first chunk; 'aborted' when a client went away mid-response */
  events: EventEmitter;
  requests: Echo[];
  /** per-request release of /download after its first MiB (see the route) */
  openConnections(): number;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 'gatehouse-streaming-test-');

/** Deterministic body of `bytes` bytes built from CHUNK; its sha256. */
export function patternSha256(bytes: number): string {
  const h = createHash('sha256');
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, CHUNK.length);
    h.update(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
    left -= n;
  }
  return h.digest('hex');
}

export { CHUNK as PATTERN_CHUNK };

/**
 * Real loopback HTTP backend. Routes (under any base path):
 *   …/slow?ms=N           answers after N ms
 *   …/download?bytes=N    streams N pattern bytes; after the first MiB waits for
 *                         events.emit('release') (with ?gate=1) so a test can prove streaming
 *   …/drip                writes 1 KiB every 50 ms until the client goes away
 *   anything else         echoes method, url, headers, body size and sha256 as JSON
 * The response carries `x-backend: <name>`, `x-hop: 1` named in `Connection: x-hop` and `keep-alive`.
 */
export async function startBackend(name: string): Promise<TestBackend> {
  const events = new EventEmitter();
  events.setMaxListeners(100);
  const requests: Echo[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const u = new URL(url, 'http://x');
    if (u.pathname.endsWith('/slow')) {
      const t = setTimeout(() => { res.end('slow done'); }, Number(u.searchParams.get('ms') ?? 1000));
      res.on('close', () => {
        clearTimeout(t);
        if (!res.writableFinished) events.emit('aborted', url);
      });
      req.resume();
      return;
    }
    if (u.pathname.endsWith('/download')) {
      req.resume();
      const total = Number(u.searchParams.get('bytes') ?? 0);
      const gate = u.searchParams.get('gate') === '1';
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total), 'x-backend': name });
      let sent = 0;
      let released = !gate;
      if (gate) events.once('release', () => { released = true; pump(); });
      const pump = (): void => {
        while (sent < total) {
          if (!released && sent >= 1024 * 1024) return;
          const n = Math.min(CHUNK.length, total - sent);
          sent += n;
          if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => { if (!res.writableFinished) events.emit('aborted', url); });
      pump();
      return;
    }
    if (u.pathname.endsWith('/drip')) {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write(Buffer.alloc(1024, 'x')), 50);
      res.on('close', () => {
        clearInterval(t);
        if (!res.writableFinished) events.emit('aborted', url);
      });
      return;
    }
    const h = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      if (bytes === 0) events.emit('upload-first-bytes', url);
      bytes += c.length;
      h.update(c);
    });
    req.on('close', () => { if (!req.complete) events.emit('upload-aborted', url, bytes); });
    req.on('end', () => {
      const echo: Echo = {
        backend: name, method: req.method ?? '', url, headers: req.headers, rawHeaders: req.rawHeaders,
        bodyBytes: bytes, bodySha256: h.digest('hex'),
      };
      requests.push(echo);
      const body = JSON.stringify(echo);
      const status = Number(u.searchParams.get('status') ?? 200);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-backend': name,
        'set-cookie': ['a=1', 'b=2'],
        connection: 'x-hop',
        'x-hop': '1',
      });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 10_000;
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    name, port, url: `http://127.0.0.1:${port}`, events, requests,
    openConnections: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The tiers the node configures by default, plus a tiny one for throttling tests. */
export const TEST_TIERS: GatewayOptions['tiers'] = {
  Gold: { requests: 5000, perSeconds: 60 },
  Silver: { requests: 2000, perSeconds: 60 },
  Bronze: { requests: 1000, perSeconds: 60 },
  Unlimited: 'unlimited',
};

/** The lookup key the tests' tokens use: the opaque format's, SHA-256 as base64url. */
export const tokenKey = sha256;

export const TEST_OPTIONS: GatewayOptions = {
  tiers: { ...TEST_TIERS, Tiny: { requests: 3, perSeconds: 60 } },
  tokenCacheTtlSeconds: 300,
  negativeCacheTtlSeconds: 30,
  apiCacheTtlSeconds: 60,
  defaultTimeoutMs: 5000,
};

export interface TestGateway {
  app: FastifyInstance;
  gw: Gateway;
  url: string;
  port: number;
  registry: Registry;
  metrics: GatewayMetrics;
  close(): Promise<void>;
}

/**
 * fastify instance shaped like the lead's server: static /token and
 * /.well-known/jwks.json routes at the root, the gateway plugin in its own
 * encapsulated context next to them.
 */
export async function startGateway(store: GatewayStore, options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const registry = new Registry();
  const metrics = createGatewayMetrics(registry);
  const opts = { ...TEST_OPTIONS, ...options };
  const gw = createGateway({ store, tokenKey, options: opts, metrics });
  const jwks = { keys: opts.jwt === undefined ? [] : [await publicJwk(opts.jwt)] };
  const app = Fastify({ logger: false });
  app.post('/token', async () => ({ token: 'endpoint' }));
  app.get('/.well-known/jwks.json', async () => jwks);
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  await app.register(async (ctx) => { await ctx.register(gw.plugin); });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return {
    app, gw, registry, metrics, port, url: `http://127.0.0.1:${port}`,
    close: async () => { await app.close(); await gw.close(); },
  };
}

/** The public half of the JWT signing key as the node publishes it. */
async function publicJwk(jwt: NonNullable<GatewayOptions['jwt']>): Promise<object> {
  const pk = jwt.privateKey instanceof KeyObject ? jwt.privateKey : KeyObject.from(jwt.privateKey);
  const pub = pk.type === 'public' ? pk : createPublicKey(pk);
  return { ...(await exportJWK(pub)), kid: jwt.kid, alg: jwt.alg, use: 'sig' };
}

export interface Res { status: number; headers: http.IncomingHttpHeaders; text: string; json: () => any }

/** One request through undici, body read fully. */
export async function call(url: string, init: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {}): Promise<Res> {
  const r = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers as http.IncomingHttpHeaders, text, json: () => JSON.parse(text) };
}

/** Raw node http request (lets tests send any header, including hop-by-hop ones). */
export function rawCall(url: string, method: string, rawHeaders: string[], body?: Buffer | string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const withHost = rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host') ? rawHeaders : ['Host', u.host, ...rawHeaders];
    const req = http.request({ host: u.hostname, port: u.port, path: url.slice(url.indexOf('/', url.indexOf('//') + 2)), method, headers: withHost as unknown as http.OutgoingHttpHeaders, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function redisAvailable(url = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<boolean> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const s = new net.Socket();
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.connect(Number(u.port || 6379), u.hostname, () => {
      s.write('PING\r\n');
      s.once('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
    });
  });
}


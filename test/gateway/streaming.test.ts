import http from 'node:http';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from './support/memory-store.js';
import { PATTERN_CHUNK, call, patternSha256, startBackend, startGateway, type TestBackend, type TestGateway } from './support/servers.js';

const MiB = 1024 * 1024;
const SIZE = 50 * MiB;

let backend: TestBackend;
let store: MemoryStore;
let g: TestGateway;
let tok: string;

beforeAll(async () => {
  backend = await startBackend('production');
  store = new MemoryStore();
  const api = store.addApi({ name: 'Files', context: '/files', version: 'v1', productionUrl: backend.url });
  const t = store.addToken();
  tok = t.token;
  store.subscribe(t.info.applicationId, api.id, 'Unlimited');
  g = await startGateway(store);
});

afterAll(async () => {
  await g?.close();
  await backend?.close();
});

// A forced GC before each sample measures live memory, not garbage waiting for collection.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Samples live heap + array buffers (where Buffers live) every 20 ms while `fn` runs;
 * returns the peak growth in bytes. A gateway holding a whole 50 MB body would show ≥ 50 MB.
 */
async function peakGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const mem = (): number => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
  const base = mem();
  let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, mem()); }, 20);
  try {
    const result = await fn();
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

function waitFor(emitter: NodeJS.EventEmitter, event: string, ms: number): Promise<unknown[]> {
  return Promise.race([
    once(emitter, event),
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no '${event}' within ${ms} ms`)), ms)),
  ]);
}

describe('streaming', () => {
  it('streams a 50 MB upload: the backend sees bytes before the upload ends, memory stays flat, sha256 matches', async () => {
    const { result: echo, growth } = await peakGrowth(() => new Promise<any>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port: g.port, method: 'POST', path: '/files/v1/upload', agent: false,
        headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/octet-stream', 'content-length': String(SIZE) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try { resolve(JSON.parse(Buffer.concat(chunks).toString())); } catch (e) { reject(e); }
        });
      });
      req.on('error', reject);
      let sent = 0;
      const write = (): void => {
        while (sent < SIZE) {
          sent += PATTERN_CHUNK.length;
          const more = req.write(PATTERN_CHUNK);
          if (sent === MiB) {
            // hold the rest back until the backend has seen the start: a buffering gateway never gets there
            waitFor(backend.events, 'upload-first-bytes', 5000).then(write, reject);
            return;
          }
          if (!more) { req.once('drain', write); return; }
        }
        req.end();
      };
      write();
    }));
    expect(echo.bodyBytes).toBe(SIZE);
    expect(echo.bodySha256).toBe(patternSha256(SIZE));
    console.log(`live memory growth ${(growth / MiB).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(20 * MiB);
  });

  it('streams a 50 MB download: the client gets bytes before the backend sends the rest, memory stays flat, sha256 matches', async () => {
    const { result, growth } = await peakGrowth(() => new Promise<{ bytes: number; sha: string; status: number }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: g.port, path: `/files/v1/download?bytes=${SIZE}&gate=1`, agent: false, headers: { authorization: `Bearer ${tok}` } }, (res) => {
        const h = createHash('sha256');
        let bytes = 0;
        let released = false;
        const guard = setTimeout(() => reject(new Error('first MiB never reached the client: not streamed')), 5000);
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          h.update(c);
          if (!released && bytes >= 512 * 1024) {
            released = true;
            clearTimeout(guard);
            backend.events.emit('release');
          }
        });
        res.on('end', () => resolve({ bytes, sha: h.digest('hex'), status: res.statusCode ?? 0 }));
        res.on('error', reject);
      }).on('error', reject);
    }));
    expect(result.status).toBe(200);
    expect(result.bytes).toBe(SIZE);
    expect(result.sha).toBe(patternSha256(SIZE));
    console.log(`live memory growth ${(growth / MiB).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(20 * MiB);
  });

  it('a client that goes away mid-response closes the backend exchange', async () => {
    const aborted = waitFor(backend.events, 'aborted', 3000);
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: g.port, path: '/files/v1/drip', agent: false, headers: { authorization: `Bearer ${tok}` } }, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', () => {});
      setTimeout(() => reject(new Error('no data')), 3000);
    });
    expect((await aborted)[0]).toBe('/drip');
    expect((await call(`${g.url}/files/v1/after`, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(200);
  });

  it('a client that goes away while the backend thinks aborts the backend request', async () => {
    const aborted = waitFor(backend.events, 'aborted', 3000);
    const req = http.get({ host: '127.0.0.1', port: g.port, path: '/files/v1/slow?ms=4000', agent: false, headers: { authorization: `Bearer ${tok}` } });
    req.on('error', () => {});
    await new Promise((r) => setTimeout(r, 150));
    req.destroy();
    expect((await aborted)[0]).toBe('/slow?ms=4000');
    const text = (await call(`${g.url}/metrics`)).text;
    expect(text).toMatch(/gatehouse_gateway_requests_total\{api="Files",version="v1",status="499"\} [1-9]/);
  });

  it('a client that aborts its upload does not crash the gateway; the backend sees the abort', async () => {
    const aborted = waitFor(backend.events, 'upload-aborted', 3000);
    const req = http.request({
      host: '127.0.0.1', port: g.port, method: 'POST', path: '/files/v1/upload-abort', agent: false,
      headers: { authorization: `Bearer ${tok}`, 'content-length': String(10 * MiB) },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(MiB));
    await waitFor(backend.events, 'upload-first-bytes', 3000);
    req.destroy();
    await aborted;
    expect((await call(`${g.url}/files/v1/after`, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(200);
  });
});

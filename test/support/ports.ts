import { createServer } from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port offset under which 9443, 8243 and 8280 are all free (like WSO2's Offset). */
export async function freePortOffset(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const offset = 1000 + Math.floor(Math.random() * 40000);
    const ok = await Promise.all([9443, 8243, 8280].map((p) => isFree(p + offset)));
    if (ok.every(Boolean)) return offset;
  }
  throw new Error('no free port offset found');
}

/** One free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

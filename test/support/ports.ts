import { createServer } from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A port offset under which 9443, 8243 and 8280 are all free (like WSO2's Offset), drawn from
 * `band` (offsets [from, to)). Every band keeps the shifted ports below Linux's ephemeral range
 * (32768 and up): a port found free there can be taken by any outgoing connection or `listen(0)`
 * of a test running alongside before the server binds it (it happened: "port 39780 is already in
 * use"). The README walkthrough draws from a band of its own (WALKTHROUGH_BAND), so no other test
 * can pick its ports while it restarts its server.
 */
export async function freePortOffset(band: readonly [number, number] = TEST_BAND): Promise<number> {
  const [from, to] = band;
  for (let i = 0; i < 200; i++) {
    const offset = from + Math.floor(Math.random() * (to - from));
    const ok = await Promise.all([9443, 8243, 8280].map((p) => isFree(p + offset)));
    if (ok.every(Boolean)) return offset;
  }
  throw new Error('no free port offset found');
}

/**
 * The offsets the tests draw from. Their ports do not overlap: the tests' band shifts 8243…9452
 * into 9243…30451, the walkthrough's into 30543…32751 (below 32768).
 */
export const TEST_BAND = [1000, 21000] as const;
export const WALKTHROUGH_BAND = [22300, 23300] as const;

/**
 * A free port for a server that binds it later (after a database is set up, say) or again (a
 * fault test's own PostgreSQL or Redis after an outage): drawn from 2000…8199, below the bands
 * above and below the ephemeral range, so no outgoing connection or `listen(0)` can take it in
 * between.
 */
export async function freeStablePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 2000 + Math.floor(Math.random() * 6200);
    if (await isFree(port)) return port;
  }
  throw new Error('no free port found');
}

/** One free TCP port on loopback (from the ephemeral range: bind it at once). */
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

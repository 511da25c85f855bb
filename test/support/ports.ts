import net from 'node:net';

/**
 * A port that was free a moment ago, for a server whose configuration must know its own URL
 * before it listens (the OAuth issuer). The small window before the server binds it is
 * acceptable in tests.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// The reference: a bare undici reverse proxy (~20 lines). Streams both ways, no checks at all.
import http from 'node:http';
import { Pool } from 'undici';

const pool = new Pool(process.env.BACKEND_URL, { pipelining: 1, keepAliveTimeout: 4000 });
const server = http.createServer((req, res) => {
  const headers = { ...req.headers };
  delete headers.host; delete headers.connection;
  pool.stream(
    { path: req.url, method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req, opaque: res },
    ({ statusCode, headers: h, opaque }) => {
      delete h.connection; delete h['keep-alive']; delete h['transfer-encoding'];
      opaque.writeHead(statusCode, h);
      return opaque;
    },
    (err) => { if (err && !res.headersSent) { res.statusCode = 502; res.end(); } },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(0));
process.on('message', (m) => { if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() }); });

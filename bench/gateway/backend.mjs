// Tiny loopback backend for the gateway bench: a small JSON body for every request.
import http from 'node:http';

const body = Buffer.from(JSON.stringify({ ok: true, service: 'bench-backend', n: 42 }));
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(0));
process.on('message', (m) => { if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() }); });

import type { FastifyInstance } from 'fastify';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1f24}code{background:#f2f4f7;padding:.1rem .3rem;border-radius:4px}</style>
</head><body>
<h1>Gatehouse</h1>
<p>The developer portal (Store and Publisher) is not built yet. Manage users, applications and keys with the <code>gatehouse</code> CLI:</p>
<pre><code>gatehouse user add alice --password '…'
gatehouse app create weather-app --owner alice
gatehouse app keys weather-app --owner alice</code></pre>
<p>Tokens are issued at <code>/token</code> on the gateway listeners.</p>
</body></html>`;

/** Placeholder for the portal listener (9443) until the portal exists. */
export async function portalRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
}

import { Pool } from 'undici';
import type { RateLimitedLog } from './log.js';
import type { GatewayApi } from './types.js';

/** Where a request goes: one keep-alive pool per backend origin, and the API's base path there. */
export interface Backend {
  readonly pool: Pool;
  readonly basePath: string;
}

/** The undici pools, one per backend origin, shared by every API on that origin. */
export class BackendPools {
  private readonly pools = new Map<string, Pool>();

  constructor(
    private readonly connectTimeoutMs: number,
    private readonly log: RateLimitedLog,
  ) {}

  /** The backend for one of an API's URLs; undefined (and one error line) when the URL is unusable. */
  backend(api: GatewayApi, raw: string): Backend | undefined {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      this.log.once(`url:${api.id}:${raw}`, `gateway: API ${api.name} ${api.version} has an invalid backend URL "${raw}"`);
      return undefined;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      this.log.once(`url:${api.id}:${raw}`, `gateway: API ${api.name} ${api.version} backend URL must be http(s): "${raw}"`);
      return undefined;
    }
    let pool = this.pools.get(u.origin);
    if (pool === undefined) {
      pool = new Pool(u.origin, { connectTimeout: this.connectTimeoutMs, keepAliveTimeout: 4_000, pipelining: 1 });
      this.pools.set(u.origin, pool);
    }
    const basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
    return { pool, basePath };
  }

  /** Closes every pool; requests still in flight are cut after 5 s. */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      pools.map((p) =>
        Promise.race([p.close(), new Promise<void>((r) => setTimeout(r, 5000).unref())]).then(() => (p.destroyed ? undefined : p.destroy())),
      ),
    );
  }
}

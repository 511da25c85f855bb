import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TokenEvents, TokenInvalidation } from '../oauth/events.js';

const CHANNEL = 'gatehouse:token-invalidation';
const PING_TIMEOUT_MS = 1500;

export interface InvalidationBusOptions {
  log: Logger;
  /** Where the gauge `gatehouse_invalidation_channel_up` and its outage counter go. */
  registry?: Registry;
  /**
   * The channel went down (false: this node may miss other nodes' revocations; the gateway
   * serves only young cached validations) or is subscribed again (true: the gateway drops
   * everything it cached before, so nothing a missed message named survives).
   */
  onChannel(up: boolean): void;
  /** How many nodes are subscribed to the channel (this one included), while it is up. */
  onPeers?(nodes: number): void;
  /** How often the node count is read while the channel is up (default 10 s). */
  peersEveryMs?: number;
  /** How often the subscription is checked with a ping (default 1 s). */
  heartbeatMs?: number;
  /** How long start waits for the first subscription before it goes on degraded (default 2 s; a refused connection does not wait). */
  startWaitMs?: number;
}

export interface InvalidationBus {
  /** Whether this node is subscribed to the channel now. */
  readonly up: boolean;
  close(): Promise<void>;
}

/**
 * Carries token invalidations between nodes over Redis pub/sub: what this node revokes is
 * published, and what another node publishes is replayed on the local bus (where the
 * gateway's validation cache listens). Messages carry only lookup keys and ids (grants,
 * consumer keys, applications, users, IdPs).
 *
 * Redis is not required to serve: the bus never blocks a start for more than `startWaitMs`
 * and reconnects by itself (every ≤ 500 ms). While it is not subscribed, `onChannel(false)`
 * has the gateway shorten its cache; once subscribed again, `onChannel(true)` has it drop
 * what it cached before. One warn line per outage (and at a start without Redis), one info
 * line when the channel is back.
 */
export async function connectInvalidationBus(redisUrl: string, events: TokenEvents, opts: InvalidationBusOptions): Promise<InvalidationBus> {
  const { log } = opts;
  const nodeId = randomUUID();
  const options = {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // A hung Redis must not pile up publishes that never complete.
    commandTimeout: 2000,
    retryStrategy: (times: number) => Math.min(50 * times, 500),
  } as const;
  const pub = new Redis(redisUrl, options);
  const sub = new Redis(redisUrl, options);
  const gauge = opts.registry && new Gauge({ name: 'gatehouse_invalidation_channel_up', help: 'Whether this node is subscribed to the token invalidation channel (Redis); 0 = other nodes\' revocations may be missed, cached validations live at most cluster.degradedCacheTtl', registers: [opts.registry] });
  const outages = opts.registry && new Counter({ name: 'gatehouse_invalidation_channel_outages_total', help: 'Times this node lost the token invalidation channel (Redis) since it started', registers: [opts.registry] });
  gauge?.set(0);
  let up = false;
  let closed = false;
  let downSince = Date.now();
  let warned = false;

  const goDown = (reason: string, atStart = false): void => {
    if (closed) return;
    if (up) {
      up = false;
      downSince = Date.now();
      gauge?.set(0);
      outages?.inc();
      opts.onChannel(false);
    }
    if (warned) return;
    warned = true;
    log.warn(
      { event: 'invalidation_channel_down', reason },
      atStart
        ? 'Redis not reachable at start: running degraded (cached token validations live at most cluster.degradedCacheTtl, throttling counts per node) until it is'
        : 'Redis unreachable: other nodes\' revocations may be missed, so cached token validations live at most cluster.degradedCacheTtl and throttling counts per node, until it is back',
    );
  };
  const goUp = (): void => {
    if (closed || up) return;
    up = true;
    gauge?.set(1);
    opts.onChannel(true);
    if (warned) log.info({ event: 'invalidation_channel_up', downMs: Date.now() - downSince }, 'Redis reachable again: subscribed to token invalidations (validations cached before were dropped)');
    warned = false;
  };

  // Connection errors say nothing new beyond the outage line: ioredis retries by itself.
  pub.on('error', () => {});
  sub.on('error', () => {});
  let starting = true;
  sub.on('close', () => {
    if (!starting) goDown('connection to Redis closed');
    else refused?.(); // refused at start: go on degraded at once (it reconnects by itself)
  });
  let subscribed: (() => void) | undefined;
  let refused: (() => void) | undefined;
  sub.on('ready', () => {
    sub.subscribe(CHANNEL).then(
      () => {
        goUp();
        subscribed?.();
        void countPeers();
      },
      (err: Error) => goDown(err.message),
    );
  });
  let replaying = false;
  sub.on('message', (_channel: string, raw: string) => {
    try {
      const { from, ...msg } = JSON.parse(raw) as { from: string } & TokenInvalidation;
      if (from === nodeId) return;
      replaying = true;
      events.invalidated(msg);
    } catch {
      log.warn('ignored a malformed token invalidation message');
    } finally {
      replaying = false;
    }
  });
  const off = events.onInvalidated((msg) => {
    if (replaying) return;
    // While the channel is down the outage line covers it: the other nodes' caches are short-lived then.
    pub.publish(CHANNEL, JSON.stringify({ from: nodeId, ...msg })).catch((err: Error) => {
      if (up) log.warn({ err: { message: err.message } }, 'could not publish a token invalidation');
    });
  });

  const countPeers = async (): Promise<void> => {
    if (!opts.onPeers || !up || pub.status !== 'ready') return;
    try {
      const r = (await pub.pubsub('NUMSUB', CHANNEL)) as [string, number];
      const n = Number(r[1]);
      if (n >= 1) opts.onPeers(n);
    } catch {
      // the next round tries again
    }
  };
  const peers = setInterval(() => void countPeers(), opts.peersEveryMs ?? 10_000);
  peers.unref();
  // A Redis that stops answering without closing the connection (hung, or a partition) must not
  // look subscribed: a ping every second, and one unanswered for PING_TIMEOUT_MS counts as down
  // (the connection is dropped and made again).
  let pinging = false;
  const heartbeat = setInterval(() => {
    if (!up || pinging || sub.status !== 'ready') return;
    pinging = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer a ping within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
    });
    Promise.race([sub.ping(), timeout]).then(
      () => {},
      (err: Error) => {
        goDown(err.message);
        sub.disconnect(true);
      },
    ).finally(() => {
      clearTimeout(timer);
      pinging = false;
    });
  }, opts.heartbeatMs ?? 1000);
  heartbeat.unref();

  pub.connect().catch(() => {});
  const first = new Promise<boolean>((resolve) => {
    subscribed = () => resolve(true);
    refused = () => resolve(false);
    setTimeout(() => resolve(false), opts.startWaitMs ?? 2000).unref();
  });
  sub.connect().catch(() => {});
  const ok = await first;
  starting = false;
  if (!ok) goDown('no subscription within the start wait', true);
  subscribed = undefined;
  refused = undefined;
  // The publisher may connect a moment after the subscriber: count once it is there.
  pub.once('ready', () => void countPeers());

  return {
    get up() {
      return up;
    },
    close: async () => {
      closed = true;
      clearInterval(peers);
      clearInterval(heartbeat);
      off();
      await Promise.allSettled([sub.quit(), pub.quit()]);
      sub.disconnect();
      pub.disconnect();
    },
  };
}

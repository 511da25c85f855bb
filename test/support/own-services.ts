import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freeStablePort } from './ports.js';
import { REQUIRE_SERVICES } from './services.js';

/**
 * A PostgreSQL and a Redis of the test's own (fault tests stop and restart them; the shared
 * services are never touched). Missing binaries skip the test with a printed reason, unless
 * GATEHOUSE_REQUIRE_SERVICES=1, where they fail it.
 */
const run = promisify(execFile);

function pgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], 'bin');
}

/** Why a service cannot be had here (undefined when it can); throws instead when services are required. */
function missing(what: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  const msg = `${what}: ${reason}`;
  if (REQUIRE_SERVICES) throw new Error(`${msg}, and GATEHOUSE_REQUIRE_SERVICES=1 requires it`);
  console.warn(`SKIP: ${msg}; fault tests skipped`);
  return true;
}

// initdb and postgres refuse to run as root: then run them as the `postgres` user.
const asRoot = userInfo().uid === 0;

function pgReason(): string | undefined {
  if (pgBinDir() === undefined) return 'no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin';
  if (asRoot && !existsSync('/usr/sbin/runuser')) return 'running as root without runuser to start PostgreSQL as postgres';
  return undefined;
}

export function ownPostgresAvailable(): boolean {
  return !missing('a PostgreSQL of the test\'s own', pgReason());
}

export async function ownRedisAvailable(): Promise<boolean> {
  let reason: string | undefined;
  try {
    await run('redis-server', ['--version']);
  } catch {
    reason = 'no redis-server on PATH';
  }
  return !missing('a Redis of the test\'s own', reason);
}

async function asPostgres(bin: string, args: string[]): Promise<string> {
  const { stdout } = asRoot ? await run('runuser', ['-u', 'postgres', '--', bin, ...args]) : await run(bin, args);
  return stdout;
}

export interface OwnPostgres {
  url: string;
  port: number;
  /** SIGSTOP to the server and its backends: it stops answering without closing anything. */
  pause(): Promise<void>;
  /** SIGCONT: it answers again. */
  resume(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it (if running) and removes its directory. */
  destroy(): Promise<void>;
}

/** initdb in a temp dir, then pg_ctl start on a free port (socket in the same dir, fsync off). */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = pgBinDir()!;
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-pg-'));
  const data = path.join(dir, 'data');
  if (asRoot) {
    const { uid, gid } = await run('id', ['-u', 'postgres']).then(async (u) => ({ uid: Number(u.stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) }));
    chownSync(dir, uid, gid);
  }
  await asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freeStablePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60`;
  let running = false;
  const serverPids = async (): Promise<number[]> => {
    const main = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = await run('pgrep', ['-P', String(main)]).then((r) => r.stdout, () => '');
    return [main, ...children.split('\n').filter(Boolean).map(Number)];
  };
  const pg: OwnPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start: async () => {
      await asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
      running = true;
    },
    stop: async () => {
      await asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
      running = false;
    },
    pause: async () => {
      for (const pid of await serverPids()) process.kill(pid, 'SIGSTOP');
    },
    resume: async () => {
      for (const pid of (await serverPids()).reverse()) process.kill(pid, 'SIGCONT');
    },
    destroy: async () => {
      if (running) await pg.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}

export interface OwnRedis {
  url: string;
  port: number;
  /** SIGSTOP: it stops answering, connections stay open (a hung server, or a partition). */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** `redis-server --port <free> --save ""` as a child process, stopped with SIGKILL (an outage). */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freeStablePort();
  let child: ChildProcess | undefined;
  const redis: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    start: async () => {
      const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      let out = '';
      c.stdout!.on('data', (d) => (out += d));
      const deadline = Date.now() + 10_000;
      while (!/Ready to accept connections/.test(out)) {
        if (c.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
        if (Date.now() > deadline) throw new Error(`redis-server not ready: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    stop: async () => {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    },
    destroy: () => redis.stop(),
  };
  await redis.start();
  return redis;
}

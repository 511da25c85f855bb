import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouse } from '../support/cli.js';
import { freePortOffset } from '../support/ports.js';
import { kill, spawnStart, type StartedProcess } from '../support/start-process.js';

/** Start-up that fails loudly: the exit code and the one line an operator reads, through the real CLI. */

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const mode = (p: string) => `0${(statSync(p).mode & 0o777).toString(8)}`;
const onlyLine = (r: { stderr: string }) => {
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
};

/** The certificate a listener presents, as its SHA-256 fingerprint. */
function servedFingerprint(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      cert ? resolve(cert.fingerprint256) : reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

const startedPorts = (p: StartedProcess) => p.logs().find((l) => l.msg === 'gatehouse started')!.ports as { portal: number; https: number; http: number | null };

describe('start-up checks (CLI)', () => {
  let dir: string;
  const procs: StartedProcess[] = [];
  const at = (...parts: string[]) => path.join(dir, ...parts);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-start-'));
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', at('ec.key'), '-out', at('ec.crt'), '-subj', '/CN=localhost', '-days', '2');
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('rsa.key'), '-out', at('rsa.crt'), '-subj', '/CN=localhost', '-days', '2');
  });
  afterAll(() => {
    for (const p of procs) kill(p);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('TLS material is loaded and pair-checked before listening', () => {
    const tlsStart = async (cert: string, key: string) => {
      const config = at(`tls-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(config, `tls:\n  cert: ${cert}\n  key: ${key}\n`);
      return gatehouse(['--config', config, '--data-dir', at('tls-data'), 'start', '--port-offset', String(await freePortOffset())]);
    };

    it('an EC certificate with an RSA key: names both settings and the two key types', async () => {
      const r = await tlsStart('ec.crt', 'rsa.key');
      expect(r.code).toBe(2);
      expect(onlyLine(r)).toBe(
        `gatehouse: tls.key ${at('rsa.key')} does not belong to the certificate in tls.cert ${at('ec.crt')}: the certificate's key is EC prime256v1, the private key is RSA 2048-bit`,
      );
    });

    it('a missing file names tls.cert', async () => {
      const r = await tlsStart('/nonexistent/cert.pem', 'ec.key');
      expect(r.code).toBe(2);
      expect(onlyLine(r)).toBe('gatehouse: tls.cert: cannot read /nonexistent/cert.pem: no such file');
    });

    it('swapped files are called swapped', async () => {
      const r = await tlsStart('ec.key', 'ec.crt');
      expect(r.code).toBe(2);
      expect(onlyLine(r)).toBe(`gatehouse: tls.cert and tls.key are swapped: ${at('ec.key')} holds the private key and ${at('ec.crt')} the certificate`);
    });

    it('a cipher list OpenSSL cannot use names tls.ciphers', async () => {
      const config = at('ciphers.yaml');
      writeFileSync(config, 'tls:\n  ciphers: NO-SUCH-CIPHER\n');
      const r = await gatehouse(['--config', config, '--data-dir', at('tls-data'), 'start', '--port-offset', String(await freePortOffset())]);
      expect(r.code).toBe(2);
      expect(onlyLine(r)).toMatch(/^gatehouse: tls\.ciphers: OpenSSL accepts none of "NO-SUCH-CIPHER"/);
    });
  });

  describe('one server per SQLite data directory, owner-only files, listeners', () => {
    let first: StartedProcess;
    const data = () => at('shared');

    it('tightens an existing data directory and database at start, and says so', async () => {
      expect((await gatehouse(['--data-dir', data(), 'user', 'add', 'erin', '--password', 'erin-pass'])).code).toBe(0);
      chmodSync(data(), 0o755);
      chmodSync(path.join(data(), 'gatehouse.db'), 0o644);
      first = await spawnStart(['--data-dir', data(), '--port-offset', String(await freePortOffset())]);
      procs.push(first);
      const warnings = first.logs().filter((l) => l.level === 40).map((l) => l.msg);
      expect(warnings).toContain(`tightened permissions of ${data()} from 0755 to 0700`);
      expect(warnings).toContain(`tightened permissions of ${path.join(data(), 'gatehouse.db')} from 0644 to 0600`);
      expect(mode(data())).toBe('0700');
      for (const f of ['gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-shm']) expect(mode(path.join(data(), f)), f).toBe('0600');
    }, 120_000);

    it('warns at start that the plain-HTTP listener serves the login form', async () => {
      // Written after "gatehouse started" (which spawnStart waits for), once the listeners are up.
      await first.waitFor(/passwords over plain HTTP/);
      const ports = startedPorts(first);
      const line = first.logs().find((l) => l.msg.startsWith('passwords over plain HTTP'));
      expect(line?.level).toBe(40);
      expect(line?.msg).toBe(
        `passwords over plain HTTP: /authorize's login form is also served on the plain-HTTP listener (port ${ports.http}); keep that port behind a TLS-terminating proxy, or set listeners.http: false`,
      );
    });

    it('a second start on the same data directory is refused with one line; other commands still work', async () => {
      const second = await gatehouse(['--data-dir', data(), 'start', '--port-offset', String(await freePortOffset())]);
      expect(second.code).toBe(1);
      expect(onlyLine(second)).toBe(
        `gatehouse: the data directory ${data()} is in use by another gatehouse server (pid ${first.child.pid}): one SQLite data directory serves one node. ` +
          'Stop that server first, or start this one with another --data-dir (nodes that serve together share PostgreSQL: database.url)',
      );
      const add = await gatehouse(['--data-dir', data(), 'user', 'add', 'frank', '--password', 'frank-pass']);
      expect(add.stderr).toBe('');
      expect(add.code).toBe(0);
    }, 120_000);

    it('the lock dies with the server: after SIGKILL the next start gets the directory', async () => {
      first.child.kill('SIGKILL');
      await first.exited(5000);
      const config = at('listeners.yaml');
      writeFileSync(config, 'listeners:\n  host: 127.0.0.1\n  portalHost: 127.0.0.2\n  http: false\n');
      const next = await spawnStart(['--config', config, '--data-dir', data(), '--port-offset', String(await freePortOffset())]);
      procs.push(next);
      const ports = startedPorts(next);
      expect(ports.http).toBeNull();
      expect(next.logs().some((l) => l.msg.startsWith('passwords over plain HTTP'))).toBe(false);
      // A host per listener: the portal only on 127.0.0.2, the gateway only on 127.0.0.1.
      await expect(servedFingerprint(ports.portal, '127.0.0.2')).resolves.toMatch(/^[0-9A-F:]+$/);
      await expect(servedFingerprint(ports.portal, '127.0.0.1')).rejects.toThrow(/ECONNREFUSED/);
      await expect(servedFingerprint(ports.https, '127.0.0.1')).resolves.toMatch(/^[0-9A-F:]+$/);
      next.child.kill('SIGTERM');
      expect((await next.exited(15_000)).code).toBe(0);
    }, 120_000);
  });

  it('SIGTERM with stdout on a broken pipe (`gatehouse start | head -3`) still exits 0 within the drain bound', async () => {
    const p = await spawnStart(['--data-dir', at('pipe'), '--port-offset', String(await freePortOffset())]);
    procs.push(p);
    expect(p.output()).toContain('"msg":"gatehouse started"');
    // The reader goes away, as head does after three lines: every later write meets EPIPE.
    p.child.stdout!.destroy();
    await new Promise((r) => setTimeout(r, 200));
    p.child.kill('SIGTERM');
    const { code, afterMs } = await p.exited(20_000);
    // 0: it finished draining by itself (the force exit past the bound would say 1).
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(15_000);
  }, 120_000);

  it('SIGHUP reloads the certificate for new connections, refuses a bad pair, and never kills the node', async () => {
    copyFileSync(at('rsa.crt'), at('live.crt'));
    copyFileSync(at('rsa.key'), at('live.key'));
    const config = at('hup.yaml');
    writeFileSync(config, 'tls:\n  cert: live.crt\n  key: live.key\n');
    const p = await spawnStart(['--config', config, '--data-dir', at('hup'), '--port-offset', String(await freePortOffset())]);
    procs.push(p);
    const { https, portal } = startedPorts(p);
    const fp = (file: string) => new X509Certificate(readFileSync(at(file))).fingerprint256;
    expect(await servedFingerprint(https)).toBe(fp('rsa.crt'));

    // A renewed certificate (here: the EC pair) at the same paths.
    copyFileSync(at('ec.crt'), at('live.crt'));
    copyFileSync(at('ec.key'), at('live.key'));
    writeFileSync(config, 'tls:\n  cert: live.crt\n  key: live.key\noauth:\n  userAccessTokenValidity: 60\n');
    p.child.kill('SIGHUP');
    await p.waitFor(/reloaded the TLS certificate and key/);
    await p.waitFor(/changed settings take effect at the next restart: oauth\.userAccessTokenValidity/);
    expect(await servedFingerprint(https)).toBe(fp('ec.crt'));
    expect(await servedFingerprint(portal)).toBe(fp('ec.crt'));

    // A key that does not match: refused, the running certificate stays, the node lives on.
    copyFileSync(at('rsa.key'), at('live.key'));
    p.child.kill('SIGHUP');
    await p.waitFor(/TLS reload refused, the running certificate stays: tls\.key .* does not belong to the certificate/);
    expect(await servedFingerprint(https)).toBe(fp('ec.crt'));
    expect(p.child.exitCode).toBeNull();
    p.child.kill('SIGTERM');
    expect((await p.exited(15_000)).code).toBe(0);
  }, 120_000);
});

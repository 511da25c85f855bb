import { execFile } from 'node:child_process';
import { connect, getCiphers, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * RFC 9325 on the HTTPS listeners (gateway 8243 and portal 9443): TLS 1.3, or TLS 1.2 with
 * ECDHE key exchange and AEAD ciphers only. The self-signed certificate is RSA, so the ECDSA
 * suites of the policy cannot be negotiated here.
 */

const PINNED_TLS12 = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'];
const PINNED_TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** The suite a handshake settles on, or undefined when the server refuses. */
function negotiate(port: number, options: ConnectionOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost', ...options }, () => {
      const suite = `${socket.getProtocol()} ${socket.getCipher().name}`;
      socket.end();
      resolve(suite);
    });
    socket.on('error', () => resolve(undefined));
  });
}

/** `openssl s_client …` against a port: its exit code and the protocol and cipher it reports. */
function sClient(port: number, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
    child.stdin!.end();
  });
}

describe('TLS policy (RFC 9325)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
  });
  afterAll(async () => s?.close());

  const listeners = () => [
    ['gateway (8243)', s.server.ports.https],
    ['portal (9443)', s.server.ports.portal],
  ] as const;

  it('openssl s_client -tls1_2 -cipher AES128-SHA fails on both listeners; the default and TLS 1.3 succeed', async () => {
    for (const [name, port] of listeners()) {
      const cbc = await sClient(port, '-tls1_2', '-cipher', 'AES128-SHA');
      expect(cbc.code, name).not.toBe(0);
      expect(cbc.out, name).toMatch(/handshake failure|no shared cipher|alert/i);
      const tls12 = await sClient(port, '-tls1_2');
      expect(tls12.code, name).toBe(0);
      expect(tls12.out, name).toMatch(/Cipher is ECDHE-RSA-AES(128|256)-GCM-SHA(256|384)/);
      const tls13 = await sClient(port, '-tls1_3');
      expect(tls13.code, name).toBe(0);
      expect(tls13.out, name).toMatch(/New, TLSv1\.3, Cipher is TLS_AES_(128|256)_GCM_SHA(256|384)/);
    }
  });

  it('accepts exactly the pinned suites: every other TLS 1.2 suite OpenSSL offers is refused', async () => {
    const tls12 = getCiphers()
      .filter((c) => !c.startsWith('tls_'))
      .map((c) => c.toUpperCase());
    expect(tls12.length).toBeGreaterThan(20);
    for (const [name, port] of listeners()) {
      const accepted: string[] = [];
      for (const cipher of tls12) {
        const got = await negotiate(port, { ciphers: `${cipher}@SECLEVEL=0`, minVersion: 'TLSv1', maxVersion: 'TLSv1.2' });
        if (got) accepted.push(got);
      }
      expect(accepted.sort(), name).toEqual(PINNED_TLS12.map((c) => `TLSv1.2 ${c}`).sort());
      for (const suite of PINNED_TLS13) {
        expect(await negotiate(port, { ciphers: suite, minVersion: 'TLSv1.3' }), `${name} ${suite}`).toBe(`TLSv1.3 ${suite}`);
      }
    }
  });

  it('refuses TLS 1.1 and 1.0', async () => {
    for (const [name, port] of listeners()) {
      for (const v of ['-tls1_1', '-tls1']) {
        const r = await sClient(port, v, '-cipher', 'DEFAULT@SECLEVEL=0');
        expect(r.code, `${name} ${v}`).not.toBe(0);
      }
    }
  });

  it('is configurable: tls.minVersion TLSv1.3 refuses TLS 1.2, tls.ciphers narrows the list', async () => {
    const strict = await startTestServer('sqlite', { tls: { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES256-GCM-SHA384' } });
    try {
      const port = strict.server.ports.https;
      expect(await negotiate(port, { maxVersion: 'TLSv1.2' })).toBeUndefined();
      expect(await negotiate(port, { ciphers: 'TLS_AES_128_GCM_SHA256', minVersion: 'TLSv1.3' })).toBeUndefined();
      expect(await negotiate(port, {})).toBe('TLSv1.3 TLS_AES_256_GCM_SHA384');
    } finally {
      await strict.close();
    }
  });
});

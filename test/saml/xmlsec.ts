// Thin wrapper around Debian's xmlsec1 (an independent XML-DSig implementation, libxml2 + OpenSSL).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The binary; XMLSEC1=/nonexistent simulates a machine without it. */
const XMLSEC1 = process.env.XMLSEC1 ?? 'xmlsec1';

export const ID_ATTR = ['--id-attr:ID', 'urn:oasis:names:tc:SAML:2.0:assertion:Assertion'];

export function xmlsecVersion(): string | undefined {
  const r = spawnSync(XMLSEC1, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function withTemp<T>(work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-xmlsec-'));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `xmlsec1 --sign --privkey-pem key.pem,cert.pem --id-attr:ID <Assertion> --output out.xml template.xml` */
export function xmlsecSign(template: string, keyPath: string, certPath: string): string {
  return withTemp((dir) => {
    const input = join(dir, 'template.xml');
    const output = join(dir, 'signed.xml');
    writeFileSync(input, template);
    execFileSync(XMLSEC1, ['--sign', '--privkey-pem', `${keyPath},${certPath}`, ...ID_ATTR, '--output', output, input], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return readFileSync(output, 'utf8');
  });
}

/** `xmlsec1 --verify --pubkey-cert-pem cert.pem --id-attr:ID <Assertion> signed.xml`; true when OK. */
export function xmlsecVerify(xml: string, certPath: string): boolean {
  return withTemp((dir) => {
    const input = join(dir, 'signed.xml');
    writeFileSync(input, xml);
    const r = spawnSync(XMLSEC1, ['--verify', '--pubkey-cert-pem', certPath, ...ID_ATTR, input], { encoding: 'utf8' });
    return r.status === 0;
  });
}

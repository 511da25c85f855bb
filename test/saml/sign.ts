// In-process test signer: fills the DigestValue/SignatureValue of the (first) ds:Signature
// template in a document, like `xmlsec1 --sign` does. It exists so the negative corpus and the fuzz
// test can produce exotic-but-correctly-signed documents (HMAC, SHA-1, odd references) quickly
// and without xmlsec1; its output is cross-checked against xmlsec1 --verify in xmlsec.test.ts.
import { createHash, createHmac, sign } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { ALG, DS_NS } from './fixtures.js';

const HASHES: Record<string, string> = {
  [ALG.sha1]: 'sha1',
  [ALG.sha256]: 'sha256',
  [ALG.sha384]: 'sha384',
  [ALG.sha512]: 'sha512',
};
const SIGNATURES: Record<string, { hash: string; kind: 'rsa' | 'ec' | 'hmac' }> = {
  [ALG.rsaSha1]: { hash: 'sha1', kind: 'rsa' },
  [ALG.rsaSha256]: { hash: 'sha256', kind: 'rsa' },
  [ALG.rsaSha384]: { hash: 'sha384', kind: 'rsa' },
  [ALG.rsaSha512]: { hash: 'sha512', kind: 'rsa' },
  [ALG.ecdsaSha256]: { hash: 'sha256', kind: 'ec' },
  [ALG.ecdsaSha384]: { hash: 'sha384', kind: 'ec' },
  [ALG.hmacSha1]: { hash: 'sha1', kind: 'hmac' },
  [ALG.hmacSha256]: { hash: 'sha256', kind: 'hmac' },
};

function elements(root: Element): Element[] {
  const out: Element[] = [];
  const walk = (el: Element): void => {
    out.push(el);
    for (const child of Array.from(el.childNodes)) if (child.nodeType === 1) walk(child as Element);
  };
  walk(root);
  return out;
}

function child(el: Element, localName: string): Element {
  const found = Array.from(el.childNodes).find((n) => n.nodeType === 1 && (n as Element).localName === localName);
  if (!found) throw new Error(`test signer: no ${localName}`);
  return found as Element;
}

function isInside(el: Element, ancestor: Element): boolean {
  for (let n: Element | null = el; n; n = n.parentNode as Element | null) if (n === ancestor) return true;
  return false;
}

function prefixList(el: Element): string[] {
  const inc = Array.from(el.childNodes).find((n) => n.nodeType === 1 && (n as Element).localName === 'InclusiveNamespaces') as Element | undefined;
  return (inc?.getAttribute('PrefixList') ?? '').split(/\s+/).filter(Boolean);
}

export interface SigningKey {
  keyPem: string;
}

/**
 * Signs the `index`-th ds:Signature template in `xml` with `key` (or, for HMAC algorithms, with
 * `hmacSecret`). The Reference is resolved against any ID/Id/id attribute; transforms supported are
 * enveloped-signature and exc-c14n (anything else is ignored, which is what a sloppy signer does).
 */
export function signXml(xml: string, key: SigningKey, opts: { hmacSecret?: string | Buffer; index?: number } = {}): string {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const all = elements(doc.documentElement!);
  const signature = all.filter((el) => el.namespaceURI === DS_NS && el.localName === 'Signature')[opts.index ?? 0];
  if (!signature) throw new Error('test signer: no Signature template');
  const signedInfo = child(signature, 'SignedInfo');
  const reference = child(signedInfo, 'Reference');
  const uri = reference.getAttribute('URI') ?? '';
  const target = uri === '' ? doc.documentElement! : all.find((el) => ['ID', 'Id', 'id'].some((a) => el.getAttribute(a) === uri.slice(1)));
  if (!target) throw new Error(`test signer: nothing has ID ${uri}`);
  const transforms = Array.from(child(reference, 'Transforms').childNodes).filter((n) => n.nodeType === 1) as Element[];
  const algorithms = transforms.map((t) => t.getAttribute('Algorithm'));

  const clone = target.cloneNode(true) as Element;
  if (algorithms.includes(ALG.enveloped) && isInside(signature, target)) {
    // Remove the signature from the clone, following the same child-index path.
    const path: number[] = [];
    for (let n: Element = signature; n !== target; n = n.parentNode as Element) {
      path.unshift(Array.from(n.parentNode!.childNodes).indexOf(n));
    }
    let c: Element = clone;
    for (const i of path) c = c.childNodes[i] as Element;
    c.parentNode!.removeChild(c);
  }
  const excTransform = transforms.find((t) => t.getAttribute('Algorithm') === ALG.excC14n);
  const canon = new ExclusiveCanonicalization().process(clone as unknown as globalThis.Element, {
    inclusiveNamespacesPrefixList: excTransform ? prefixList(excTransform) : [],
    ancestorNamespaces: [],
  });
  const digestAlg = child(reference, 'DigestMethod').getAttribute('Algorithm') ?? '';
  const hash = HASHES[digestAlg];
  if (!hash) throw new Error(`test signer: digest ${digestAlg}`);
  child(reference, 'DigestValue').textContent = createHash(hash).update(canon, 'utf8').digest('base64');

  const signedInfoCanon = new ExclusiveCanonicalization().process(signedInfo.cloneNode(true) as unknown as globalThis.Element, {
    inclusiveNamespacesPrefixList: prefixList(child(signedInfo, 'CanonicalizationMethod')),
    ancestorNamespaces: [],
  });
  const sigAlg = child(signedInfo, 'SignatureMethod').getAttribute('Algorithm') ?? '';
  const spec = SIGNATURES[sigAlg];
  if (!spec) throw new Error(`test signer: signature ${sigAlg}`);
  let value: string;
  if (spec.kind === 'hmac') {
    value = createHmac(spec.hash, opts.hmacSecret ?? 'secret').update(signedInfoCanon, 'utf8').digest('base64');
  } else {
    value = sign(spec.hash, Buffer.from(signedInfoCanon, 'utf8'), spec.kind === 'ec' ? { key: key.keyPem, dsaEncoding: 'ieee-p1363' } : key.keyPem).toString('base64');
  }
  child(signature, 'SignatureValue').textContent = value;
  return doc.toString();
}

import { createHash, createPublicKey, verify, type KeyLike, type KeyObject } from 'node:crypto';
import type { HashAlgorithm, SignatureAlgorithm } from 'xml-crypto';

export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

interface SignatureSpec {
  hash: 'sha256' | 'sha384' | 'sha512';
  keyType: 'rsa' | 'ec';
}

/** The only SignatureMethod algorithms accepted: no SHA-1, no HMAC, no RSA-PSS/MGF1 variants. */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, SignatureSpec>> = Object.freeze({
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': { hash: 'sha256', keyType: 'rsa' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': { hash: 'sha384', keyType: 'rsa' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': { hash: 'sha512', keyType: 'rsa' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': { hash: 'sha256', keyType: 'ec' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': { hash: 'sha384', keyType: 'ec' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512': { hash: 'sha512', keyType: 'ec' },
});

/** The only DigestMethod algorithms accepted. */
export const DIGEST_ALGORITHMS: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = Object.freeze({
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
});

export const MIN_RSA_BITS = 2048;

function toKeyObject(key: KeyLike): KeyObject {
  return typeof key === 'object' && 'asymmetricKeyType' in key ? key : createPublicKey(key);
}

/**
 * Verifies a SignatureValue with a key of the type the algorithm requires (an EC key never
 * verifies an "rsa-*" signature and vice versa), RSA keys of at least 2048 bits, and ECDSA
 * signatures in the XML-DSig r||s form (IEEE P1363), not DER.
 */
export function verifySignatureValue(algorithm: string, material: string, key: KeyLike, signatureValue: string): boolean {
  const spec = SIGNATURE_ALGORITHMS[algorithm];
  if (!spec) return false;
  const keyObject = toKeyObject(key);
  if (keyObject.type !== 'public' || keyObject.asymmetricKeyType !== spec.keyType) return false;
  if (spec.keyType === 'rsa' && (keyObject.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return false;
  const signature = Buffer.from(signatureValue.replace(/[ \t\r\n]/g, ''), 'base64');
  if (signature.length === 0) return false;
  return verify(
    spec.hash,
    Buffer.from(material, 'utf8'),
    spec.keyType === 'ec' ? { key: keyObject, dsaEncoding: 'ieee-p1363' } : keyObject,
    signature,
  );
}

function signatureClass(algorithm: string): new () => SignatureAlgorithm {
  class Verifier {
    getAlgorithmName(): string {
      return algorithm;
    }
    getSignature(): never {
      throw new Error('signing is not supported by the verifier');
    }
    verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
      return verifySignatureValue(algorithm, material, key, signatureValue);
    }
  }
  return Verifier as unknown as new () => SignatureAlgorithm;
}

function hashClass(algorithm: string, hash: string): new () => HashAlgorithm {
  class Digest {
    getAlgorithmName(): string {
      return algorithm;
    }
    getHash(xml: string): string {
      return createHash(hash).update(xml, 'utf8').digest('base64');
    }
  }
  return Digest;
}

/** Replacement algorithm tables for xml-crypto's SignedXml: only what we allow is registered. */
export function xmlCryptoSignatureAlgorithms(): Record<string, new () => SignatureAlgorithm> {
  return Object.fromEntries(Object.keys(SIGNATURE_ALGORITHMS).map((uri) => [uri, signatureClass(uri)]));
}

export function xmlCryptoHashAlgorithms(): Record<string, new () => HashAlgorithm> {
  return Object.fromEntries(Object.entries(DIGEST_ALGORITHMS).map(([uri, hash]) => [uri, hashClass(uri, hash)]));
}

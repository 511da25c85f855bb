// Mutation fuzzing: 10,000 deterministic mutants of a valid signed assertion (byte flips,
// insertions, deletions, and DOM-level edits: duplicating/moving/removing elements and attributes,
// changing text, inserting comments/PIs, wrapping the root). Each mutant must either be refused
// with a SamlValidationError or be accepted with exactly the original signed bytes and claims.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { SamlValidationError } from '../../src/saml/index.js';
import { verifySamlBearerAssertionDetailed, type SamlVerification } from '../../src/saml/verify.js';
import { makeContext, type SamlTestContext } from './context.js';
import { AUDIENCE, DEFAULT_ID, DS_NS, NOW, SAML_NS, assertionXml, iso } from './fixtures.js';
import { signXml } from './sign.js';

// SAML_FUZZ_MUTANTS raises the count for a longer local run; never below the required 10,000.
const MUTANTS = Math.max(10_000, Number(process.env.SAML_FUZZ_MUTANTS ?? 10_000));
const SEED = 0x5a41_f022;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '<', '>', '&', '"', "'", '=', '/', ' ', '\n', '\r', '\t', '<!---->', '<!-- x -->', '<?x y?>', '<?x?>', '<![CDATA[z]]>', ']]>',
  '&amp;', '&lt;', '&#0;', '&#x41;', '&#xD;', '&nbsp;', '\u2028', '\u0085', '\u0000', 'é', '\uFFFF', '\uFEFF', '😀',
  ' xmlns="urn:x"', ' xmlns:saml="urn:evil"', ' xmlns:ds=""', ` ID="${DEFAULT_ID}"`, ` id="${DEFAULT_ID}"`,
  '<!DOCTYPE a>', '<!DOCTYPE a [<!ENTITY e "x">]>', '&e;', '<saml:Assertion>', '</saml:Assertion>', `<ds:Signature xmlns:ds="${DS_NS}"/>`,
  '<saml:NameID>admin</saml:NameID>', 'admin@example.org', '--', '?>', 'Z', '9', '+01:00',
];

const ATTR_VALUES = ['', 'x', DEFAULT_ID, `#${DEFAULT_ID}`, '_evil', AUDIENCE, 'urn:other', iso(NOW + 86_400), iso(NOW - 86_400), 'not-a-date',
  'urn:oasis:names:tc:SAML:2.0:cm:bearer', 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments', '2.0', '1.1'];
const TEXT_VALUES = ['', ' ', 'admin@example.org', 'https://idp.example.org/saml', 'AAAA', '\n  ', 'alice@example.org ', '&'];

function elementsOf(doc: Document): Element[] {
  const out: Element[] = [];
  const stack: Element[] = doc.documentElement ? [doc.documentElement] : [];
  while (stack.length) {
    const el = stack.pop()!;
    out.push(el);
    for (const c of Array.from(el.childNodes)) if (c.nodeType === 1) stack.push(c as Element);
  }
  return out;
}

function nodesOf(doc: Document, type: number): Node[] {
  return elementsOf(doc).flatMap((el) => Array.from(el.childNodes).filter((n) => n.nodeType === type));
}

function contains(ancestor: Node, node: Node | null): boolean {
  for (let n = node; n; n = n.parentNode) if (n === ancestor) return true;
  return false;
}

let ctx: SamlTestContext;
let original: SamlVerification;
let signedXml: string;

beforeAll(async () => {
  ctx = makeContext();
  const extraXml =
    '<saml:AttributeStatement><saml:Attribute Name="role"><saml:AttributeValue>user</saml:AttributeValue>' +
    '<saml:AttributeValue><![CDATA[a<b]]></saml:AttributeValue></saml:Attribute></saml:AttributeStatement>';
  signedXml = signXml(assertionXml({ pretty: true, extraXml, signatureOptions: { keyInfo: '<ds:KeyName>idp-2026</ds:KeyName>' } }), ctx.idpKey);
  original = await verifySamlBearerAssertionDetailed(Buffer.from(signedXml).toString('base64url'), ctx.opts());
});
afterAll(() => ctx?.store.cleanup());

test(`fuzz: ${MUTANTS} mutants are refused cleanly or accepted with the original signed content`, async () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

  const byteMutation = (buf: Buffer): [Buffer, string] => {
    const i = int(buf.length + 1);
    switch (int(5)) {
      case 0: {
        const b = Buffer.from(buf);
        if (b.length) b[Math.min(i, b.length - 1)]! ^= 1 << int(8);
        return [b, 'bitflip'];
      }
      case 1: {
        const b = Buffer.from(buf);
        if (b.length) b[Math.min(i, b.length - 1)] = int(256);
        return [b, 'byte'];
      }
      case 2:
        return [Buffer.concat([buf.subarray(0, i), Buffer.from(pick(TOKENS)), buf.subarray(i)]), 'insert'];
      case 3:
        return [Buffer.concat([buf.subarray(0, i), buf.subarray(i + 1 + int(16))]), 'delete'];
      default: {
        const len = 1 + int(64);
        return [Buffer.concat([buf.subarray(0, i), buf.subarray(int(buf.length), int(buf.length) + len), buf.subarray(i)]), 'duplicate'];
      }
    }
  };

  const domMutation = (doc: Document): string => {
    const els = elementsOf(doc);
    if (els.length === 0) return 'no-op';
    const el = pick(els);
    const other = pick(els);
    const root = doc.documentElement!;
    let op: string;
    switch (int(14)) {
      case 0:
        op = 'remove-element';
        if (el !== root) el.parentNode!.removeChild(el);
        break;
      case 1: {
        op = 'duplicate-element';
        const kids = Array.from(other.childNodes);
        other.insertBefore(el.cloneNode(true), kids[int(kids.length + 1)] ?? null);
        break;
      }
      case 2: {
        op = 'move-element';
        if (el !== root && !contains(el, other)) {
          const kids = Array.from(other.childNodes);
          const ref = kids[int(kids.length + 1)] ?? null;
          // Never insertBefore(node, node): xmldom 0.9 then builds a sibling cycle and spins
          // until "RangeError: Invalid array length".
          if (ref !== el) other.insertBefore(el, ref);
        }
        break;
      }
      case 3: {
        op = 'remove-attribute';
        const attrs = Array.from(el.attributes);
        if (attrs.length) el.removeAttributeNode(pick(attrs));
        break;
      }
      case 4: {
        op = 'copy-attribute';
        const attrs = Array.from(el.attributes);
        if (attrs.length) {
          const a = pick(attrs);
          other.setAttributeNS(a.namespaceURI, a.name, a.value);
        }
        break;
      }
      case 5: {
        op = 'change-attribute';
        const attrs = Array.from(el.attributes);
        if (attrs.length) pick(attrs).value = rnd() < 0.5 ? pick(ATTR_VALUES) : `${pick(attrs).value}${pick(TOKENS)}`;
        break;
      }
      case 6: {
        op = 'change-text';
        const texts = nodesOf(doc, 3);
        if (texts.length) {
          const t = pick(texts) as unknown as { data: string };
          t.data = rnd() < 0.5 ? pick(TEXT_VALUES) : t.data + pick(TOKENS);
        }
        break;
      }
      case 7: {
        op = 'insert-comment';
        const kids = Array.from(el.childNodes);
        el.insertBefore(doc.createComment(pick(['', 'x', ' evil '])), kids[int(kids.length + 1)] ?? null);
        break;
      }
      case 8: {
        op = 'insert-pi';
        const kids = Array.from(el.childNodes);
        el.insertBefore(doc.createProcessingInstruction('x', pick(['', 'y', '.example.com'])), kids[int(kids.length + 1)] ?? null);
        break;
      }
      case 9: {
        op = 'wrap-root';
        const wrapper = rnd() < 0.5 ? doc.createElementNS(SAML_NS, 'saml:Assertion') : doc.createElementNS('urn:evil', 'e:Wrapper');
        if (rnd() < 0.5) wrapper.setAttribute('ID', rnd() < 0.5 ? DEFAULT_ID : '_evil');
        wrapper.setAttribute('Version', '2.0');
        doc.replaceChild(wrapper, root);
        if (rnd() < 0.5) wrapper.appendChild(root.cloneNode(true));
        wrapper.appendChild(root);
        break;
      }
      case 10: {
        op = 'swap-siblings';
        const next = el.nextSibling;
        if (next && el.parentNode) el.parentNode.insertBefore(next, el);
        break;
      }
      case 11: {
        op = 'split-text';
        const texts = nodesOf(doc, 3) as unknown as Array<{ data: string; splitText(i: number): unknown }>;
        if (texts.length) {
          const t = pick(texts);
          if (t.data.length > 1) t.splitText(1 + int(t.data.length - 1));
        }
        break;
      }
      case 12:
        op = 'add-xmlns';
        el.setAttributeNS('http://www.w3.org/2000/xmlns/', `xmlns:${pick(['q', 'saml', 'ds', 'xsi'])}`, pick(['urn:q', SAML_NS, DS_NS, 'urn:evil']));
        break;
      default: {
        op = 'reorder-attributes';
        for (const a of Array.from(el.attributes)) {
          el.removeAttributeNode(a);
          el.setAttributeNode(a);
        }
      }
    }
    return op;
  };

  const base = Buffer.from(signedXml, 'utf8');
  const baseDoc = new DOMParser().parseFromString(signedXml, 'application/xml');
  let accepted = 0;
  let acceptMs = 0;
  let refuseMs = 0;
  let refused = 0;
  const reasons = new Map<string, number>();
  const acceptedOps = new Map<string, number>();
  const failures: string[] = [];
  const started = performance.now();

  for (let n = 0; n < MUTANTS; n++) {
    // 0-3 DOM edits on a copy of the parsed original, serialized once, then 0-3 byte edits.
    const ops: string[] = [];
    const domOps = int(4);
    let buf = base;
    if (domOps > 0) {
      const doc = baseDoc.cloneNode(true) as Document;
      for (let k = 0; k < domOps; k++) {
        try {
          ops.push(domMutation(doc));
        } catch {
          ops.push('dom-error'); // xmldom itself throws on some edits, e.g. insertBefore(node, node) -> RangeError
        }
      }
      try {
        buf = Buffer.from(doc.toString(), 'utf8');
      } catch {
        ops.push('serialize-error');
      }
    }
    const byteOps = domOps === 0 ? 1 + int(3) : int(3);
    for (let k = 0; k < byteOps; k++) {
      const [next, op] = byteMutation(buf);
      buf = next;
      ops.push(op);
    }
    const param = rnd() < 0.8 ? buf.toString('base64url') : buf.toString('base64').replace(/.{64}/g, '$&\n');
    const t0 = performance.now();
    try {
      const result = await verifySamlBearerAssertionDetailed(param, ctx.opts());
      acceptMs += performance.now() - t0;
      accepted++;
      for (const op of new Set(ops)) acceptedOps.set(op, (acceptedOps.get(op) ?? 0) + 1);
      if (result.signedXml !== original.signedXml) failures.push(`#${n} [${ops}] accepted with different signed content`);
      else if (JSON.stringify(result.claims) !== JSON.stringify(original.claims)) failures.push(`#${n} [${ops}] accepted with different claims`);
    } catch (error) {
      refuseMs += performance.now() - t0;
      if (error instanceof SamlValidationError) {
        refused++;
        reasons.set(error.description, (reasons.get(error.description) ?? 0) + 1);
      } else {
        failures.push(`#${n} [${ops}] threw ${String(error)}`);
      }
    }
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.log(`[saml fuzz] verifier time: accepted ${acceptMs.toFixed(0)} ms, refused ${refuseMs.toFixed(0)} ms`);
  const top = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([d, c]) => `    ${c}\t${d}`).join('\n');
  console.log(
    `[saml fuzz] seed 0x${SEED.toString(16)}: ${MUTANTS} mutants in ${seconds}s: ${accepted} accepted (signed content and claims identical), ${refused} refused\n` +
      `  accepted mutants included ops: ${JSON.stringify(Object.fromEntries(acceptedOps))}\n  top refusal reasons:\n${top}`,
  );
  expect(failures.slice(0, 10)).toEqual([]);
  expect(accepted + refused).toBe(MUTANTS);
  // Both outcomes must actually occur, or the fuzzer is not exercising the verifier.
  expect(accepted).toBeGreaterThan(50);
  expect(refused).toBeGreaterThan(MUTANTS / 2);
}, 120_000); // a few seconds on an idle machine; generous for a loaded 2-core CI box

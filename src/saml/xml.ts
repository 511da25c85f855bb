import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { fail } from './errors.js';

export const NS = {
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  xmlns: 'http://www.w3.org/2000/xmlns/',
} as const;

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;

// Anything outside the XML 1.0 Char production (https://www.w3.org/TR/xml/#charsets).
const INVALID_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// xmldom rewrites these to "\n" before parsing (XML 1.1 line-end rules, and its two major versions
// disagree on U+2029), so the tree would not match the bytes a standard signer hashed.
const REWRITTEN_LINE_ENDS = /[\u0085\u2028\u2029]/;
// Without a DTD only character references and the five predefined entities exist.
const REFERENCE = /&(?:#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|lt|gt|amp|quot|apos);/y;
const XML_DECL_ENCODING = /\bencoding\s*=\s*(["'])([^"']*)\1/;
const XML_DECL_VERSION = /\bversion\s*=\s*(["'])([^"']*)\1/;

// Element and attribute names restricted to ASCII NCNames (all SAML/XML-DSig names are): the
// name-character tables are where XML parsers disagree (xmldom 0.9 accepts an attribute named
// "\u{1F600}x", the xmldom 0.8 copy inside xml-crypto rejects it and builds a different tree).
const ASCII_QNAME = /^[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?$/;

class ParserComplaint extends Error {}

/**
 * Linear pre-scan of the raw text for what xmldom would otherwise let through:
 * DOCTYPE/ENTITY declarations (refused before any parsing, so no entity expansion or external
 * fetch can ever happen), characters XML forbids, and a bare "&" (xmldom keeps it as text).
 */
function scanRaw(xml: string): void {
  if (INVALID_XML_CHAR.test(xml)) fail('assertion contains characters not allowed in XML');
  if (REWRITTEN_LINE_ENDS.test(xml)) fail('assertion contains U+0085/U+2028/U+2029 line separators');
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) fail('DOCTYPE and entity declarations are not allowed');
  let cdata = xml.indexOf('<![CDATA[');
  let i = xml.indexOf('&');
  while (i !== -1) {
    if (cdata !== -1 && cdata < i) {
      const end = xml.indexOf(']]>', cdata + 9);
      if (end === -1) fail('assertion is not well-formed XML');
      if (end + 3 > i) {
        i = xml.indexOf('&', end + 3);
      }
      cdata = xml.indexOf('<![CDATA[', end + 3);
      continue;
    }
    REFERENCE.lastIndex = i;
    if (!REFERENCE.test(xml)) fail('assertion is not well-formed XML (unescaped "&")');
    i = xml.indexOf('&', i + 1);
  }
}

export interface TreeLimits {
  maxDepth: number;
  maxElements: number;
  /** Attributes of all elements together, namespace declarations included. */
  maxAttributes: number;
}

/**
 * Parses XML with every xmldom warning and error treated as fatal, then walks the tree
 * (iteratively, no recursion) enforcing: nesting depth, element and attribute counts, no
 * comments, no processing instructions (other than a leading UTF-8 XML 1.0 declaration), no
 * DOCTYPE/entity nodes, only XML characters in text and attribute values (character references
 * included), no empty namespace prefix bindings.
 */
export function parseStrictXml(xml: string, limits: TreeLimits): Document {
  const { maxDepth, maxElements, maxAttributes } = limits;
  scanRaw(xml);
  let doc: Document;
  try {
    const parser = new DOMParser({
      locator: false,
      onError: () => {
        throw new ParserComplaint();
      },
    });
    doc = parser.parseFromString(xml, 'application/xml');
  } catch {
    return fail('assertion is not well-formed XML');
  }
  if (doc.doctype) fail('DOCTYPE and entity declarations are not allowed');

  const top = Array.from(doc.childNodes);
  top.forEach((node, index) => {
    if (node.nodeType === ELEMENT_NODE) return;
    if (node.nodeType === PROCESSING_INSTRUCTION_NODE && node.nodeName === 'xml' && index === 0) {
      const data = (node as unknown as { data: string }).data;
      const version = XML_DECL_VERSION.exec(data)?.[2];
      const encoding = XML_DECL_ENCODING.exec(data)?.[2];
      if (version !== '1.0') fail('only XML 1.0 is accepted');
      if (encoding !== undefined && encoding.toUpperCase() !== 'UTF-8') fail('assertion must be UTF-8');
      return;
    }
    if (node.nodeType === COMMENT_NODE) fail('comments are not allowed in the assertion');
    if (node.nodeType === PROCESSING_INSTRUCTION_NODE) fail('processing instructions are not allowed in the assertion');
    if (node.nodeType === TEXT_NODE && /^[ \t\r\n]*$/.test(node.nodeValue ?? '')) return;
    fail('unexpected content outside the root element');
  });
  const root = doc.documentElement;
  if (!root) return fail('assertion is not well-formed XML');

  const stack: Array<[Node, number]> = [[root, 1]];
  let elements = 0;
  let attributes = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    switch (node.nodeType) {
      case ELEMENT_NODE: {
        if (depth > maxDepth) fail('assertion is nested too deeply');
        const el = node as Element;
        if (++elements > maxElements) fail('assertion has too many elements');
        attributes += el.attributes.length;
        if (attributes > maxAttributes) fail('assertion has too many attributes');
        if (!ASCII_QNAME.test(el.tagName)) fail('element and attribute names must be ASCII');
        for (const a of Array.from(el.attributes)) {
          if (!ASCII_QNAME.test(a.name)) fail('element and attribute names must be ASCII');
          if (INVALID_XML_CHAR.test(a.value)) fail('assertion contains characters not allowed in XML');
          if (a.namespaceURI === NS.xmlns && a.prefix === 'xmlns' && a.value === '') {
            fail('assertion is not namespace-well-formed');
          }
        }
        for (const child of Array.from(el.childNodes)) stack.push([child, depth + 1]);
        break;
      }
      case TEXT_NODE:
      case CDATA_SECTION_NODE:
        if (INVALID_XML_CHAR.test(node.nodeValue ?? '')) fail('assertion contains characters not allowed in XML');
        break;
      case COMMENT_NODE:
        fail('comments are not allowed in the assertion');
        break;
      case PROCESSING_INSTRUCTION_NODE:
        fail('processing instructions are not allowed in the assertion');
        break;
      default:
        fail('assertion contains unsupported XML node types');
    }
  }
  return doc;
}

export function isElement(node: Node | null | undefined): node is Element {
  return node != null && node.nodeType === ELEMENT_NODE;
}

export function is(el: Element, ns: string, localName: string): boolean {
  return el.namespaceURI === ns && el.localName === localName;
}

/** Element children of an element-only content model; non-whitespace text is refused. */
export function childElements(el: Element): Element[] {
  const out: Element[] = [];
  for (const child of Array.from(el.childNodes)) {
    if (isElement(child)) out.push(child);
    else if ((child.nodeType === TEXT_NODE || child.nodeType === CDATA_SECTION_NODE) && /^[ \t\r\n]*$/.test(child.nodeValue ?? '')) continue;
    else fail('unexpected content in a structural element');
  }
  return out;
}

/** The text of a simple-content element; any child element (or other node) is refused. */
export function simpleText(el: Element, what: string): string {
  let text = '';
  for (const child of Array.from(el.childNodes)) {
    if (child.nodeType === TEXT_NODE || child.nodeType === CDATA_SECTION_NODE) text += child.nodeValue ?? '';
    else fail(`${what} must contain only text`);
  }
  return text;
}

/** An un-namespaced attribute (the form SAML and XML-DSig use), or undefined. */
export function attr(el: Element, name: string): string | undefined {
  for (const a of Array.from(el.attributes)) {
    if (!a.namespaceURI && a.localName === name) return a.value;
  }
  return undefined;
}

/** All elements of the subtree in document order, iteratively. */
export function descendants(root: Element): Element[] {
  const out: Element[] = [];
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const el = stack.pop()!;
    out.push(el);
    const kids = Array.from(el.childNodes).filter(isElement);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return out;
}

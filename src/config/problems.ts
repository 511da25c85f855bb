import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { ConfigSchema, LOG_LEVELS } from './schema.js';

/**
 * Turns schema violations into the sentences an operator reads: one per problem, naming the
 * dotted key, with the allowed values in words (a bare regex or "must match a schema in anyOf"
 * is no help) and, for a misspelt key, the key that was probably meant.
 */

type Json = Record<string, unknown>;
type Node = TSchema & { type?: string; properties?: Record<string, Node>; patternProperties?: Record<string, Node>; anyOf?: Node[]; additionalProperties?: unknown };

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a value of these keys must look like, in words; matched against the dotted key. */
const HINTS: [RegExp, string][] = [
  [
    /^oauth\.issuer$/,
    'must be an origin such as https://auth.example.com or https://auth.example.com:8443, without a path, query or fragment ' +
      '(the metadata is served only at /.well-known/oauth-authorization-server of the root)',
  ],
  [/^log\.level$/, `must be one of ${LOG_LEVELS.join(', ')} (any case)`],
  [/^listeners\.http$/, 'must be a port number (0 to 65535) or false (no plain-HTTP listener)'],
  [/^listeners\.(portal|https|http)?[Hh]ost$/, 'must be a host name or IP address to bind, such as 127.0.0.1 or 0.0.0.0'],
  [/^tls\.minVersion$/, 'must be TLSv1.2 or TLSv1.3'],
  [/^throttling\.tiers\.[^.]+$/, 'must be { requests: N, perSeconds: S } or unlimited'],
  [/^database\.url$/, 'must be a postgres:// or postgresql:// URL'],
  [/^redis\.url$/, 'must be a redis:// or rediss:// URL'],
  [/^metrics\.listen$/, 'must be host:port, such as 127.0.0.1:9100 or [::1]:9100'],
  [/^database\.schema$/, 'must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63)'],
];

const hintFor = (at: string): string | undefined => HINTS.find(([re]) => re.test(at))?.[1];

/** Levenshtein distance, for "did you mean". Keys are short: the quadratic table is fine. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function suggest(key: string, known: string[]): string | undefined {
  const lower = key.toLowerCase();
  const exactCase = known.find((k) => k.toLowerCase() === lower);
  if (exactCase) return exactCase;
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d <= Math.max(2, Math.floor(k.length / 4)) && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

interface Unknown {
  /** The dotted path of the object that holds the unknown key. */
  parent: string;
  key: string;
  message: string;
}

const join = (parent: string, key: string) => (parent ? `${parent}.${key}` : key);

/** Walks the value along the schema and reports every key the schema does not know. */
function unknownKeys(schema: Node, value: unknown, parent: string, out: Unknown[]): void {
  if (!isObject(value)) return;
  if (schema.anyOf) {
    const branch = schema.anyOf.find((b) => b.type === 'object');
    if (branch) unknownKeys(branch, value, parent, out);
    return;
  }
  if (schema.type !== 'object') return;
  if (schema.properties) {
    const known = Object.keys(schema.properties);
    for (const [key, child] of Object.entries(value)) {
      const sub = schema.properties[key];
      if (sub) {
        unknownKeys(sub, child, join(parent, key), out);
        continue;
      }
      if (schema.additionalProperties !== false) continue;
      const guess = suggest(key, known);
      const list = known.length <= 12 ? ` (${parent || 'the top level'} takes ${known.join(', ')})` : '';
      out.push({ parent, key, message: `${join(parent, key)}: unknown configuration key${guess ? `; did you mean ${guess}?` : list}` });
    }
    return;
  }
  if (schema.patternProperties) {
    const [pattern, sub] = Object.entries(schema.patternProperties)[0]!;
    const re = new RegExp(pattern);
    for (const [key, child] of Object.entries(value)) {
      if (!re.test(key)) {
        out.push({ parent, key, message: `${join(parent, key)}: "${key.length > 80 ? `${key.slice(0, 80)}…` : key}" is not a valid name (a letter, then letters, digits, _ or -; at most 64)` });
        continue;
      }
      unknownKeys(sub, child, join(parent, key), out);
    }
  }
}

const dotted = (instancePath: string) => instancePath.replace(/^\//, '').replaceAll('/', '.');

/**
 * Every problem of one layer (file, variable, flag) with the defaults filled in, one sentence
 * each; empty when the layer is valid.
 */
export function describeProblems(input: unknown): string[] {
  const unknown: Unknown[] = [];
  unknownKeys(ConfigSchema as Node, input, '', unknown);
  // An object holding an unknown key fails its union's other branches and its required keys
  // too (perSecond for perSeconds: five messages); the unknown key says it all.
  const covered = new Set(unknown.map((u) => u.parent));
  const isCovered = (at: string) => covered.has(at) || unknown.some((u) => at === join(u.parent, u.key) || at.startsWith(`${join(u.parent, u.key)}.`));

  const byPath = new Map<string, { keyword: string; message: string }[]>();
  for (const e of Value.Errors(ConfigSchema, input)) {
    if (e.keyword === 'boolean' || e.keyword === 'additionalProperties') continue;
    const at = dotted(e.instancePath) || '(top level)';
    if (isCovered(at)) continue;
    const list = byPath.get(at) ?? [];
    list.push({ keyword: e.keyword, message: e.message });
    byPath.set(at, list);
  }
  const lines = unknown.map((u) => u.message);
  for (const [at, errors] of byPath) {
    const hint = hintFor(at);
    const unions = errors.some((e) => e.keyword === 'anyOf');
    if (unions) {
      // Inside a union, keep only what names a nested field (a tier's missing perSeconds); the
      // "must be string / must equal constant" of the branches that do not apply become the hint.
      const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'const' && e.keyword !== 'type');
      const deeper = [...byPath.keys()].some((k) => k.startsWith(`${at}.`));
      if (specific.length > 0) for (const e of specific) lines.push(`${at}: ${e.message}`);
      else if (!deeper) lines.push(`${at}: ${hint ?? errors.find((e) => e.keyword === 'anyOf')!.message}`);
      continue;
    }
    for (const e of errors) {
      lines.push(`${at}: ${(e.keyword === 'pattern' && hint) || e.message}`);
    }
  }
  return [...new Set(lines)];
}

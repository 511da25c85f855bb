import { readFileSync } from 'node:fs';
import path from 'node:path';
import Value from 'typebox/value';
import { GatehouseError } from '../errors.js';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config, type ConfigInput } from './schema.js';

/** A configuration that cannot be used: one line naming the key, exit status 2. */
export class ConfigError extends GatehouseError {
  override name = 'ConfigError';
  constructor(message: string) {
    super('invalid', message);
  }
}

/** Flags given on the command line; they win over the environment, which wins over the file. */
export interface ConfigFlags {
  config?: string;
  dataDir?: string;
  portOffset?: string | number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Json, v) : v;
  }
  return out;
}

function setPath(target: Json, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let cur = target;
  for (const k of keys.slice(0, -1)) {
    if (!isObject(cur[k])) cur[k] = {};
    cur = cur[k] as Json;
  }
  cur[keys[keys.length - 1]!] = value;
}

function integer(name: string, raw: string | number): number {
  const n = typeof raw === 'number' ? raw : Number(raw.trim());
  if (!Number.isInteger(n)) throw new ConfigError(`${name}: expected a whole number, got "${raw}"`);
  return n;
}

/** Environment variables that map onto configuration keys. */
const ENV_KEYS: Record<string, { key: string; int?: boolean }> = {
  GATEHOUSE_DATA_DIR: { key: 'dataDir' },
  GATEHOUSE_PORT_OFFSET: { key: 'portOffset', int: true },
  GATEHOUSE_DATABASE_URL: { key: 'database.url' },
  GATEHOUSE_DATABASE_SCHEMA: { key: 'database.schema' },
  GATEHOUSE_REDIS_URL: { key: 'redis.url' },
  GATEHOUSE_ISSUER: { key: 'oauth.issuer' },
  GATEHOUSE_LOG_LEVEL: { key: 'log.level' },
};

function readFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc == null) return {};
  if (!isObject(doc)) throw new ConfigError(`config file ${file}: the top level must be a mapping of keys`);
  return doc;
}

/** What a value of these keys must look like, in words (a bare regex is no help to an operator). */
const PATTERN_HINTS: Record<string, string> = {
  'oauth.issuer':
    'must be an origin such as https://auth.example.com or https://auth.example.com:8443, without a path, query or fragment ' +
    '(the metadata is served only at /.well-known/oauth-authorization-server of the root)',
};

function describeErrors(input: unknown): string | undefined {
  const errors = [...Value.Errors(ConfigSchema, input)];
  if (errors.length === 0) return undefined;
  // Prefer the most specific error: the one with the longest path, additionalProperties named by key.
  const lines = new Set<string>();
  for (const e of errors) {
    const at = e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(top level)';
    if (e.keyword === 'boolean' || e.keyword === 'additionalProperties') {
      if (e.keyword === 'boolean') lines.add(`${at}: unknown configuration key`);
      continue;
    }
    lines.add(`${at}: ${(e.keyword === 'pattern' && PATTERN_HINTS[at]) || e.message}`);
  }
  if (lines.size === 0) lines.add(`${errors[0]!.instancePath || '(top level)'}: ${errors[0]!.message}`);
  return [...lines].join('; ');
}

/**
 * Builds the configuration from (lowest to highest precedence) defaults, the YAML file,
 * environment variables and command-line flags; refuses anything invalid, naming the key.
 */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env, overrides: Json = {}): Config {
  const source = flags.config ?? env.GATEHOUSE_CONFIG;
  let input: Json = source ? readFile(source) : {};
  const fromEnv: Json = {};
  for (const [name, spec] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(fromEnv, spec.key, spec.int ? integer(name, raw) : raw);
  }
  input = deepMerge(input, fromEnv);
  if (flags.dataDir !== undefined) input.dataDir = flags.dataDir;
  if (flags.portOffset !== undefined) input.portOffset = integer('--port-offset', flags.portOffset);
  input = deepMerge(input, overrides);

  const withDefaults = Value.Default(ConfigSchema, structuredClone(input)) as unknown;
  const problem = describeErrors(withDefaults);
  if (problem) throw new ConfigError(`invalid configuration${source ? ` in ${source}` : ''}: ${problem}`);
  const cfg = withDefaults as ConfigInput;

  const shift = (base: number) => (base === 0 ? 0 : base + cfg.portOffset);
  const ports = { portal: shift(cfg.listeners.portal), https: shift(cfg.listeners.https), http: shift(cfg.listeners.http) };
  for (const [name, p] of Object.entries(ports)) {
    if (p > 65535) throw new ConfigError(`portOffset: ${cfg.portOffset} moves the ${name} port past 65535`);
  }
  if ((cfg.tls.cert === undefined) !== (cfg.tls.key === undefined)) {
    throw new ConfigError('tls: set both tls.cert and tls.key, or neither (a self-signed pair is generated)');
  }
  const issuer = (cfg.oauth.issuer ?? `https://localhost:${ports.https === 0 ? 8243 + cfg.portOffset : ports.https}`).replace(/\/+$/, '');
  return {
    ...cfg,
    dataDir: path.resolve(cfg.dataDir),
    oauth: { ...cfg.oauth, issuer },
    ports,
    source,
  };
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import Value from 'typebox/value';
import { GatehouseError } from '../errors.js';
import { parse as parseYaml } from 'yaml';
import { describeProblems } from './problems.js';
import { ConfigSchema, DEFAULT_TIERS, type Config, type ConfigInput } from './schema.js';

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
const ENV_KEYS: Record<string, { key: string; int?: boolean; secret?: boolean }> = {
  GATEHOUSE_DATA_DIR: { key: 'dataDir' },
  GATEHOUSE_PORT_OFFSET: { key: 'portOffset', int: true },
  // URLs may carry a password: a problem names the variable, never echoes its value.
  GATEHOUSE_DATABASE_URL: { key: 'database.url', secret: true },
  GATEHOUSE_DATABASE_SCHEMA: { key: 'database.schema' },
  GATEHOUSE_REDIS_URL: { key: 'redis.url', secret: true },
  GATEHOUSE_ISSUER: { key: 'oauth.issuer' },
  GATEHOUSE_LOG_LEVEL: { key: 'log.level' },
  GATEHOUSE_METRICS_TOKEN: { key: 'metrics.token', secret: true },
  GATEHOUSE_KEYS_SECRET: { key: 'keys.secret', secret: true },
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

/** One source of settings, validated on its own so that a problem names where it came from. */
interface Layer {
  /** How the operator wrote it: "in gatehouse.yaml", "GATEHOUSE_LOG_LEVEL=verbose", "--port-offset -300". */
  label: string;
  data: Json;
}

const FILE_PATHS = ['dataDir', 'tls.cert', 'tls.key'];

function getPath(source: Json, dotted: string): unknown {
  let cur: unknown = source;
  for (const k of dotted.split('.')) cur = isObject(cur) ? cur[k] : undefined;
  return cur;
}

/** What every layer gets before validation: log levels in any case; a file's paths relative to the file. */
function normalise(data: Json, fileDir?: string): Json {
  const log = data.log;
  if (isObject(log) && typeof log.level === 'string') log.level = log.level.trim().toLowerCase();
  if (fileDir !== undefined) {
    for (const key of FILE_PATHS) {
      const v = getPath(data, key);
      if (typeof v === 'string' && v !== '' && !path.isAbsolute(v)) setPath(data, key, path.resolve(fileDir, v));
    }
  }
  return data;
}

function layerProblems(layer: Layer): string | undefined {
  const problems = describeProblems(Value.Default(ConfigSchema, structuredClone(layer.data)));
  return problems.length === 0 ? undefined : `invalid ${layer.label}: ${problems.join('; ')}`;
}

/** The label of the highest-precedence layer that sets a key, for problems found after merging. */
function blame(layers: Layer[], dotted: string): string {
  for (let i = layers.length - 1; i >= 0; i--) if (getPath(layers[i]!.data, dotted) !== undefined) return layers[i]!.label;
  return 'configuration';
}

function mergeTiers(layers: Layer[], configured: Record<string, TierSetting>): Record<string, TierSetting> {
  const unlimited = configured.Unlimited;
  if (unlimited !== undefined && unlimited !== 'unlimited') {
    throw new ConfigError(
      `invalid ${blame(layers, 'throttling.tiers.Unlimited')}: throttling.tiers.Unlimited must stay unlimited (it is every application's default tier); give a limited tier another name`,
    );
  }
  return { ...DEFAULT_TIERS, ...configured };
}

type TierSetting = ConfigInput['throttling']['tiers'][string];

/** "127.0.0.1:9100" or "[::1]:9100" (the schema checked the form). */
function splitHostPort(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(colon + 1)) };
}

/**
 * Builds the configuration from (lowest to highest precedence) defaults, the YAML file,
 * environment variables and command-line flags. Each source is checked on its own, so a bad
 * value is reported even where a higher one overrides it, and every problem names the file,
 * the variable or the flag it came from, and the key.
 */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env, overrides: Json = {}): Config {
  const source = flags.config ?? env.GATEHOUSE_CONFIG;
  const layers: Layer[] = [];
  if (source) layers.push({ label: `configuration in ${source}`, data: normalise(readFile(source), path.dirname(path.resolve(source))) });
  for (const [name, spec] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const data: Json = {};
    setPath(data, spec.key, spec.int ? integer(name, raw) : raw);
    layers.push({ label: spec.secret ? name : `${name}=${raw}`, data: normalise(data) });
  }
  if (flags.dataDir !== undefined) layers.push({ label: `--data-dir ${flags.dataDir}`, data: { dataDir: flags.dataDir } });
  if (flags.portOffset !== undefined) layers.push({ label: `--port-offset ${flags.portOffset}`, data: { portOffset: integer('--port-offset', flags.portOffset) } });
  if (Object.keys(overrides).length > 0) layers.push({ label: 'configuration', data: normalise(structuredClone(overrides)) });

  const problems = layers.map(layerProblems).filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  const merged = layers.reduce<Json>((acc, l) => deepMerge(acc, l.data), {});
  const withDefaults = Value.Default(ConfigSchema, merged) as unknown;
  const remaining = describeProblems(withDefaults);
  if (remaining.length > 0) throw new ConfigError(`invalid configuration: ${remaining.join('; ')}`);
  const cfg = withDefaults as ConfigInput;

  const shift = (base: number) => (base === 0 ? 0 : base + cfg.portOffset);
  const metrics = cfg.metrics.listen === undefined ? null : splitHostPort(cfg.metrics.listen);
  if (metrics !== null && metrics.port > 65535) {
    throw new ConfigError(`invalid ${blame(layers, 'metrics.listen')}: metrics.listen: port ${metrics.port} is past 65535`);
  }
  const ports = {
    portal: shift(cfg.listeners.portal),
    https: shift(cfg.listeners.https),
    http: cfg.listeners.http === false ? null : shift(cfg.listeners.http),
    metrics: metrics === null ? null : shift(metrics.port),
  };
  for (const [name, p] of Object.entries(ports)) {
    if (p !== null && p > 65535) {
      throw new ConfigError(`invalid ${blame(layers, 'portOffset')}: portOffset ${cfg.portOffset} moves the ${name} port to ${p}, past 65535`);
    }
  }
  if ((cfg.tls.cert === undefined) !== (cfg.tls.key === undefined)) {
    throw new ConfigError(`invalid ${blame(layers, cfg.tls.cert === undefined ? 'tls.key' : 'tls.cert')}: tls: set both tls.cert and tls.key, or neither (a self-signed pair is generated)`);
  }
  const { host, portalHost, httpsHost, httpHost } = cfg.listeners;
  const issuer = (cfg.oauth.issuer ?? `https://localhost:${ports.https === 0 ? 8243 + cfg.portOffset : ports.https}`).replace(/\/+$/, '');
  return {
    ...cfg,
    // A file's dataDir is already absolute (relative to the file); a flag's or variable's is
    // relative to the current directory.
    dataDir: path.resolve(cfg.dataDir),
    throttling: { ...cfg.throttling, tiers: mergeTiers(layers, cfg.throttling.tiers) },
    oauth: { ...cfg.oauth, issuer },
    ports,
    hosts: { portal: portalHost ?? host, https: httpsHost ?? host, http: httpHost ?? host, metrics: metrics?.host ?? null },
    source,
  };
}

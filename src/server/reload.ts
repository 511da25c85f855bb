import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { RunningServer } from './start.js';
import { loadTls } from './tls.js';

/**
 * What SIGHUP does: re-read the configuration and the TLS files, and apply what can change
 * without a restart: the certificate, key and cipher policy of the HTTPS listeners (a renewed
 * certificate goes live for new connections). Everything else that changed is named as needing
 * a restart. Anything that fails the start-up checks is refused and the running setup stays.
 * Logs go to stdout, so there is no log file to reopen.
 */

type Flat = Map<string, string>;

function flatten(value: unknown, prefix: string, out: Flat): Flat {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/** The dotted keys whose values differ between two configurations (where they came from aside). */
export function changedKeys(before: Config, after: Config): string[] {
  const a = flatten({ ...before, source: undefined }, '', new Map());
  const b = flatten({ ...after, source: undefined }, '', new Map());
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

const RELOADABLE = /^tls\./;

export async function reloadOnSignal(server: RunningServer, readConfig: () => Config, logger: Logger, signal = 'SIGHUP'): Promise<void> {
  let next: Config;
  try {
    next = readConfig();
  } catch (err) {
    logger.warn({ signal }, `reload refused, the running configuration stays: ${(err as Error).message}`);
    return;
  }
  try {
    const tls = await loadTls(next);
    server.setTls(tls);
    for (const warning of tls.warnings) logger.warn({ signal, tls: tls.origin }, warning);
    logger.info({ signal, tls: tls.origin }, 'reloaded the TLS certificate and key: new connections use them');
  } catch (err) {
    logger.warn({ signal }, `TLS reload refused, the running certificate stays: ${(err as Error).message}`);
  }
  const restart = changedKeys(server.config, next).filter((k) => !RELOADABLE.test(k));
  if (restart.length > 0) logger.warn({ signal, keys: restart }, `changed settings take effect at the next restart: ${restart.join(', ')}`);
}

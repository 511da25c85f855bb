import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { openStore, type Store } from '../store/index.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

/** The configuration the same way the server resolves it (file, environment, flags). */
export function configFrom(cmd: Command): Config {
  const g = cmd.optsWithGlobals<GlobalOptions & { portOffset?: string }>();
  return loadConfig({ config: g.config, dataDir: g.dataDir, portOffset: g.portOffset });
}

/**
 * Opens the store for one command and closes it afterwards. The CLI talks to the database
 * directly (migrating it if needed), so it works whether or not a server runs on the same data.
 */
export async function withStore<T>(cmd: Command, body: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = configFrom(cmd);
  const store = await openStore(config);
  try {
    return await body(store, config);
  } finally {
    await store.close();
  }
}

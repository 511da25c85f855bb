import { ConfigError } from '../config/load.js';
import { GatehouseError } from '../errors.js';

export interface OutputOptions {
  json?: boolean;
}

/** Prints a result: one JSON object on stdout with --json, else the human lines. */
export function emit(opts: OutputOptions, result: object, human: string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${human}\n`);
}

/** A refusal of the command line itself (a bad flag): printed as one line, exit status 1. */
export class CliError extends GatehouseError {
  override name = 'CliError';
  constructor(message: string) {
    super('invalid', message);
  }
}

/** Runs a command body; any failure becomes one clear line (or one JSON object) and a non-zero exit. */
export async function run(opts: OutputOptions, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    // Every refusal the user can act on is a GatehouseError; anything else is unexpected.
    const known = err instanceof GatehouseError && err.kind !== 'internal';
    const message = known ? (err as Error).message : `unexpected failure: ${(err as Error).message ?? String(err)}`;
    if (opts.json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
    else process.stderr.write(`gatehouse: ${message}\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  }
}

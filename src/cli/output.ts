import { ConfigError } from '../config/load.js';
import { SchemaTooNewError } from '../store/db.js';
import { StoreConflict, StoreNotFound } from '../store/errors.js';

export interface OutputOptions {
  json?: boolean;
}

/** Prints a result: one JSON object on stdout with --json, else the human lines. */
export function emit(opts: OutputOptions, result: object, human: string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${human}\n`);
}

/** A refusal the user can act on: printed as one line, exit status 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** Runs a command body; any failure becomes one clear line (or one JSON object) and a non-zero exit. */
export async function run(opts: OutputOptions, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const known = [CliError, StoreConflict, StoreNotFound, ConfigError, SchemaTooNewError].some((kind) => err instanceof kind);
    const message = known ? (err as Error).message : `unexpected failure: ${(err as Error).message ?? String(err)}`;
    if (opts.json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
    else process.stderr.write(`gatehouse: ${message}\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  }
}

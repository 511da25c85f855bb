import type { Command } from 'commander';
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

/**
 * Whether the command line asked for --json: the option as parsed or, where commander stopped
 * parsing (at an unknown option), among the arguments it did not get to.
 */
const wantsJson = (cmd: Command): boolean => cmd.opts().json === true || cmd.args.includes('--json');

/**
 * The refusals of the command line itself, which commander makes (a missing required option or
 * argument, an unknown option or command, an extra argument), keep the --json contract: one
 * {"error": "…"} object on stdout and nothing on stderr; without --json commander's own line on
 * stderr. Exit status 1 either way (commander's; main.ts sets it instead of exiting at once).
 */
export function usageErrors(cmd: Command): void {
  let json = false;
  cmd.exitOverride().configureOutput({
    outputError: (text, write) => {
      json = wantsJson(cmd);
      if (json) process.stdout.write(`${JSON.stringify({ error: text.trim().replace(/^error: /, '') })}\n`);
      else write(text);
    },
    // the help commander may print after an error goes with the text, not with the JSON
    writeErr: (text) => {
      if (!json) process.stderr.write(text);
    },
  });
  for (const sub of cmd.commands) usageErrors(sub);
}

#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';

// `gatehouse app list | head -1`: a reader that went away is no reason to crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  // commander's own exits (--help, a usage error it has already reported): its status, once stdout is written
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = err.exitCode;
}

#!/usr/bin/env node
import { buildProgram } from './program.js';

// `gatehouse app list | head -1`: a reader that went away is no reason to crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

await buildProgram().parseAsync(process.argv);

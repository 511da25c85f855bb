import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: a couple of files at a time keeps end-to-end timings honest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});

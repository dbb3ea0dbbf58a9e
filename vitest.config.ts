import { defineConfig } from 'vitest/config';

// Database tests: each test file creates its own uniquely named database via
// test/support/databases.ts, so files can safely run in parallel.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ (the CLI the tests spawn) once, before any file runs.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Child processes: native drivers, PGlite's WASM heap and testcontainers state stay per file.
    pool: 'forks',
    fileParallelism: true,
    // The machine (and typical CI runners) has 2 cores; more workers just contend with the
    // database servers running on the same host.
    maxWorkers: 2,
    reporters: ['default'],
  },
});

import { defineConfig } from 'vitest/config';

/**
 * Three projects: unit and Store tests (the Store conformance suite runs on both engines
 * by itself), and the end-to-end suite twice, once on each engine: everything that
 * touches storage is proven on SQLite and on PostgreSQL.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/store/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e-sqlite', include: ['test/e2e/**/*.test.ts'], env: { ROOST_TEST_ENGINE: 'sqlite' } } },
      { extends: true, test: { name: 'e2e-postgres', include: ['test/e2e/**/*.test.ts'], env: { ROOST_TEST_ENGINE: 'postgres' } } },
    ],
  },
});

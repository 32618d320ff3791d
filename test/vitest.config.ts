import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * One command runs everything: unit specs beside the code and end-to-end
 * specs against the real PostgreSQL and Redis named below (override with
 * TEST_DATABASE_URL / TEST_REDIS_URL). Each e2e test makes its own
 * organization, so files run in parallel without truncating anything.
 */
export default defineConfig({
  test: {
    globals: true,
    include: ['src/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    root: fileURLToPath(new URL('..', import.meta.url)),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_test',
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/1',
      JWT_SECRET: 'pulse-test-secret-0123456789',
      LOG_LEVEL: 'error',
      // Suites send hundreds of requests per organization in a few seconds; the
      // rate-limit suite sets its own small limits.
      RATE_LIMIT_REQUESTS: '1000000',
      RATE_LIMIT_FORCED: '1000000',
      RATE_LIMIT_EXPORTS: '1000000',
    },
  },
});

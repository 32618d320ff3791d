import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = {
  NODE_ENV: 'test',
  JWT_SECRET: 'pulse-test-secret-0123456789',
  LOG_LEVEL: 'error',
  // Suites send hundreds of requests per organization in a few seconds; the
  // rate-limit suite sets its own small limits.
  RATE_LIMIT_REQUESTS: '1000000',
  RATE_LIMIT_FORCED: '1000000',
  RATE_LIMIT_EXPORTS: '1000000',
  RATE_LIMIT_SOCKET_EVENTS: '1000000',
};
const shared = { globals: true, root, testTimeout: 30_000, hookTimeout: 60_000 };

/**
 * Unit specs beside the code that talk to PostgreSQL or Redis: they run in
 * `pulse`, not in `unit`. A spec missing from this list fails everywhere,
 * CI included, because `unit` hands out URLs that lead nowhere.
 */
const UNIT_SPECS_WITH_SERVICES = ['src/redis/deadline.spec.ts', 'src/database/pg-pool.spec.ts'];

/**
 * Three projects; `npm test` (test/run.mjs) runs all three when PostgreSQL
 * and Redis answer, and `unit` and `embedded` alone when they do not.
 * - `unit`: the unit specs beside the code, which need no service.
 * - `pulse`: every end-to-end spec and the unit specs listed above, against
 *   the real PostgreSQL and Redis named below (override with
 *   TEST_DATABASE_URL / TEST_REDIS_URL; test/run.mjs probes the same
 *   defaults). Each e2e test makes its own organization, so files run in
 *   parallel without truncating anything.
 * - `embedded`: the core specs (time series, cache semantics,
 *   read-your-writes, tickets, approximate percentiles) again in embedded mode, on a PGlite of the
 *   run's own and the in-process cache, as `npm run demo` runs.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['src/**/*.spec.ts'],
          exclude: UNIT_SPECS_WITH_SERVICES,
          env: { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' },
        },
      },
      {
        test: {
          ...shared,
          name: 'pulse',
          include: ['test/**/*.e2e-spec.ts', ...UNIT_SPECS_WITH_SERVICES],
          globalSetup: ['test/support/global-setup.ts'],
          env: {
            ...env,
            DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_test',
            REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/1',
          },
        },
      },
      {
        test: {
          ...shared,
          name: 'embedded',
          include: [
            'test/e2e/time-series-ground-truth.e2e-spec.ts',
            'test/e2e/cache.e2e-spec.ts',
            'test/e2e/tickets.e2e-spec.ts',
            'test/e2e/performance-sketches.e2e-spec.ts',
          ],
          globalSetup: ['test/support/embedded-global-setup.ts'],
          env: { ...env, PULSE_EMBEDDED: 'true' },
        },
      },
    ],
  },
});

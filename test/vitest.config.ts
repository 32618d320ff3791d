import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SHARED_CLUSTER_PORT, clusterSeedUrl, clusterToolsMissing } from './support/redis-cluster.js';

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
 * The specs that run again with REDIS_MODE=cluster, two or more instances on
 * a Redis Cluster the project starts (cluster-global-setup.ts), beside the
 * cluster's own specs.
 */
const CLUSTER_SPECS = [
  'test/e2e/cache.e2e-spec.ts',
  'test/e2e/rate-limit.e2e-spec.ts',
  'test/e2e/realtime.e2e-spec.ts',
  'test/cluster/*.cluster-spec.ts',
];

/** The cluster project needs the machine's redis-server and redis-cli; without them it is left out, and said so. */
const clusterMissing = clusterToolsMissing();
if (clusterMissing) {
  process.stderr.write(
    `pulse tests: SKIPPED the cluster project (Redis Cluster specs): ${clusterMissing}; install Redis 7 (redis-server, redis-cli) to run it.\n`,
  );
}

/**
 * Four projects; `npm test` (test/run.mjs) runs all three when PostgreSQL
 * and Redis answer, and `unit` and `embedded` alone when they do not.
 * - `unit`: the unit specs beside the code, which need no service.
 * - `pulse`: every end-to-end spec and the unit specs listed above, against
 *   the real PostgreSQL and Redis named below (override with
 *   TEST_DATABASE_URL / TEST_REDIS_URL; test/run.mjs probes the same
 *   defaults). Each e2e test makes its own organization, so files run in
 *   parallel without truncating anything.
 * - `cluster`: the cache, rate-limit and realtime specs again, and the
 *   Redis Cluster specs (no cross-slot command, failover), with
 *   REDIS_MODE=cluster on a cluster of six redis-servers on
 *   TEST_REDIS_CLUSTER_PORT (7101)…+5; the failover spec starts its own on
 *   TEST_REDIS_FAILOVER_CLUSTER_PORT (7111)…+5. Left out, with a message,
 *   when redis-server or redis-cli is missing.
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
      ...(clusterMissing
        ? []
        : [
            {
              test: {
                ...shared,
                name: 'cluster',
                include: CLUSTER_SPECS,
                globalSetup: ['test/support/cluster-global-setup.ts'],
                env: {
                  ...env,
                  DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_test',
                  REDIS_MODE: 'cluster',
                  REDIS_URL: clusterSeedUrl(SHARED_CLUSTER_PORT),
                },
              },
            },
          ]),
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

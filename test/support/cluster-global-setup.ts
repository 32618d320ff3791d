import { ensureBuilt } from './build.js';
import { migratedDatabase } from './database.js';
import { SHARED_CLUSTER_PORT, TestRedisCluster } from './redis-cluster.js';

/**
 * The `cluster` project's setup: the test database migrated (as
 * global-setup.ts does, but without copying this project's settings into
 * the process environment, which the projects' setups share: REDIS_MODE
 * would reach the `pulse` project), and the Redis Cluster its instances
 * share, for the whole run.
 */
export default async function setup({
  config,
}: {
  config: { env: Record<string, string> };
}): Promise<() => Promise<void>> {
  await migratedDatabase(config.env.DATABASE_URL, { ...process.env, ...config.env });
  ensureBuilt();
  const cluster = await TestRedisCluster.start(SHARED_CLUSTER_PORT);
  return () => cluster.stop();
}

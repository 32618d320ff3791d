import { ensureBuilt } from './build.js';
import { migratedDatabase } from './database.js';

/**
 * Creates the test database when missing and applies the migrations once for
 * the whole run; builds the service when stale, for the child-process tests.
 */
export default async function setup({ config }: { config: { env: Record<string, string> } }): Promise<void> {
  Object.assign(process.env, config.env);
  await migratedDatabase(config.env.DATABASE_URL);
  ensureBuilt();
}

import { migratedDatabase } from './database.js';

/** Creates the test database when missing and applies the migrations once for the whole run. */
export default async function setup({ config }: { config: { env: Record<string, string> } }): Promise<void> {
  Object.assign(process.env, config.env);
  await migratedDatabase(config.env.DATABASE_URL);
}

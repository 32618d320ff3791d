import pg from 'pg';
import { DataSource } from 'typeorm';
import { parseConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions } from '../../src/database/database-options.js';

/** Creates the test database when missing and applies the migrations once for the whole run. */
export default async function setup({ config }: { config: { env: Record<string, string> } }): Promise<void> {
  const env = { ...config.env };
  const url = new URL(env.DATABASE_URL);
  const database = url.pathname.slice(1);
  const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  const dataSource = new DataSource(buildDataSourceOptions(parseConfig(env)));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
  } finally {
    await dataSource.destroy();
  }
}

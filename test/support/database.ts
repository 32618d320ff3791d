import pg from 'pg';
import { DataSource } from 'typeorm';
import { parseConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions } from '../../src/database/database-options.js';
import { CITUS, createCitusDatabase, distributeTables } from './citus.js';

/** Creates the database of `url` when missing and applies the migrations to it (`env`: the settings to read). */
export async function migratedDatabase(
  url: string,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new pg.Client({
    connectionString: Object.assign(new URL(target), { pathname: '/postgres' }).toString(),
  });
  await admin.connect();
  let missing: boolean;
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    missing = rowCount === 0;
    if (missing && !CITUS) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  // On Citus a new database spans the workers of the run's own database (CITUS_URL).
  if (missing && CITUS) await createCitusDatabase(url, env.DATABASE_URL!);
  const dataSource = new DataSource(buildDataSourceOptions(parseConfig({ ...env, DATABASE_URL: url })));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
  } finally {
    await dataSource.destroy();
  }
  if (CITUS) await distributeTables(url);
}

/** The test database's URL with another database name: for tests that must not disturb the others. */
export function sideDatabaseUrl(name: string): string {
  return Object.assign(new URL(process.env.DATABASE_URL!), { pathname: `/${name}` }).toString();
}

/**
 * A migrated database of the test run's own for a suite whose instances use a
 * Redis of their own. The invalidation outbox lives in the database and any
 * instance replays it into *its* Redis, so an instance on another Redis
 * sharing the database could take a record owed to this suite's Redis (a
 * deployment never mixes Redis servers over one database).
 */
export async function ownDatabase(suffix: string): Promise<string> {
  const base = new URL(process.env.DATABASE_URL!).pathname.slice(1);
  const url = sideDatabaseUrl(`${base}_${suffix}`);
  await migratedDatabase(url);
  return url;
}

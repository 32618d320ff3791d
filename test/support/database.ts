import pg from 'pg';
import { DataSource } from 'typeorm';
import { parseConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions } from '../../src/database/database-options.js';
import { upsertContributionsSql } from '../../src/metrics/rollup-lattice.js';
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

/**
 * Replaces the tickets of the database `db` is connected to with a mix like
 * production's, then vacuums and analyzes, so plans come from fresh
 * statistics and visibility map: `count` tickets over `organizations`
 * organizations, one a minute back from now, priorities in turn; of every
 * ten, `resolved` resolved, the rest open (`in_progress` but for the last,
 * `open`), and all but the last answered; and their rollups.
 */
export async function insertTicketMix(
  db: pg.Client,
  { count, organizations, resolved }: { count: number; organizations: number; resolved: number },
): Promise<void> {
  await db.query('TRUNCATE tickets');
  await db.query(
    `INSERT INTO tickets (organization_id, status, priority, created_at, first_response_at, resolved_at, updated_at)
     SELECT 1 + i % $2::int,
            CASE WHEN i % 10 < $3::int THEN 'resolved' WHEN i % 10 < 9 THEN 'in_progress' ELSE 'open' END,
            (ARRAY['low', 'medium', 'high', 'urgent'])[1 + i % 4],
            now() - i * interval '1 minute',
            CASE WHEN i % 10 < 9 THEN now() - i * interval '1 minute' + interval '5 minutes' END,
            CASE WHEN i % 10 < $3::int THEN now() - i * interval '1 minute' + interval '1 hour' END,
            now()
     FROM generate_series(1, $1::int) AS i`,
    [count, organizations, resolved],
  );
  // Their rollups, as the writes would have kept them: organization by organization, as a rebuild
  // does (on Citus, one shard each).
  await db.query('TRUNCATE ticket_rollups');
  for (let org = 1; org <= organizations; org++) {
    await db.query(upsertContributionsSql('(SELECT tk.*, 1 AS sign FROM tickets tk WHERE tk.organization_id = $1)'), [
      org,
    ]);
  }
  await db.query('VACUUM ANALYZE tickets, ticket_rollups');
}

/**
 * A side database of its own (`name`), migrated and holding `insertTicketMix`'s
 * tickets and rollups; `work` gets a client on it, closed afterwards.
 */
export async function onTicketMix<T>(
  name: string,
  mix: Parameters<typeof insertTicketMix>[1],
  work: (db: pg.Client) => Promise<T>,
): Promise<T> {
  const url = sideDatabaseUrl(name);
  await migratedDatabase(url);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await insertTicketMix(db, mix);
    return await work(db);
  } finally {
    await db.end();
  }
}

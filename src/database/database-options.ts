import pg from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { citusVersionOf } from '../cli/citus-distribution.js';
import { Ticket } from '../tickets/ticket.entity.js';
import { FAST_TIMESTAMPTZ_TYPES } from './timestamptz.js';

export const ANALYTICS_CONNECTION = 'analytics';

/**
 * Nest token of `genericPlansAllowed`'s answer (DatabaseModule): whether the
 * analytics reports, the ticket writes of a few tickets and the rollups'
 * maintenance may run as prepared statements with generic plans.
 */
export const GENERIC_PLANS_ALLOWED = Symbol('GENERIC_PLANS_ALLOWED');

/** The analytics connections' setting under which prepared statements reuse a generic plan. */
export const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

/**
 * Whether the analytics connections may prepare statements with generic
 * plans: asked for (ANALYTICS_PREPARED_STATEMENTS > 0, never in embedded
 * mode), and the database is not Citus. Citus cannot make a distributed plan
 * of a report's generic plan ("could not create distributed plan": the
 * organization is a parameter it must know to route the statement), so there
 * every statement is planned for its values. A database that cannot be asked
 * at boot gets no prepared statements either: correct everywhere, only slower.
 */
export function genericPlansAllowed(config: AppConfig): Promise<boolean> {
  // Asked once per configuration: the analytics pool and GENERIC_PLANS_ALLOWED both need the answer at boot.
  let answer = askedFor.get(config);
  if (!answer) askedFor.set(config, (answer = askDatabase(config)));
  return answer;
}

const askedFor = new WeakMap<AppConfig, Promise<boolean>>();

async function askDatabase(config: AppConfig): Promise<boolean> {
  if (config.embedded || config.analyticsPreparedStatements === 0) return false;
  const client = new pg.Client({
    connectionString: config.databaseUrl,
    connectionTimeoutMillis: config.databaseConnectTimeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await citusVersionOf(client)) === null;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The one builder of database options, shared by the app and the migration
 * CLI. The analytics connection has its own pool with a statement timeout, so
 * a runaway analytics query cannot hold a write's connection or run forever.
 */
export function buildDataSourceOptions(
  config: AppConfig,
  role: 'primary' | 'analytics' = 'primary',
  { genericPlans = false }: { genericPlans?: boolean } = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.databaseUrl,
    entities: [Ticket],
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    parseInt8: true,
    connectTimeoutMS: config.databaseConnectTimeoutMs,
    poolSize: config.databasePoolSize,
    extra: {
      application_name: role === 'primary' ? 'pulse' : 'pulse-analytics',
      connectionTimeoutMillis: config.databaseConnectTimeoutMs,
      ...(role === 'analytics'
        ? { statement_timeout: config.analyticsStatementTimeoutMs, types: FAST_TIMESTAMPTZ_TYPES }
        : {}),
      // Reads from rollups are cheap but their cost estimates are not: past jit_above_cost PostgreSQL
      // would spend ~80 ms compiling a query that runs in 5. (PGlite has no JIT and takes no options.)
      // Generic plans for the named (prepared) analytics statements: src/analytics/prepared-statements.ts.
      ...(role === 'analytics' && !config.embedded
        ? { options: genericPlans ? `-c jit=off ${GENERIC_PLANS}` : '-c jit=off' }
        : {}),
    },
  };
}

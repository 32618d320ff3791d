import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { Ticket } from '../tickets/ticket.entity.js';

export const ANALYTICS_CONNECTION = 'analytics';

/**
 * The one builder of database options, shared by the app and the migration
 * CLI. The analytics connection has its own pool with a statement timeout, so
 * a runaway analytics query cannot hold a write's connection or run forever.
 */
export function buildDataSourceOptions(
  config: AppConfig,
  role: 'primary' | 'analytics' = 'primary',
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
      ...(role === 'analytics' ? { statement_timeout: config.analyticsStatementTimeoutMs } : {}),
      // Reads from rollups are cheap but their cost estimates are not: past jit_above_cost PostgreSQL
      // would spend ~80 ms compiling a query that runs in 5. (PGlite has no JIT and takes no options.)
      ...(role === 'analytics' && !config.embedded ? { options: '-c jit=off' } : {}),
    },
  };
}

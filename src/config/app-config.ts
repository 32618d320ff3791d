import { existsSync } from 'node:fs';
import type { Priority } from '../metrics/dimensions.js';
import {
  boolean,
  clusterNodes,
  decimal,
  integer,
  matching,
  oneOf,
  origins,
  slaTargets,
  trustedProxies,
  url,
} from './env-values.js';

export type NodeEnv = 'development' | 'test' | 'production';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Every setting Pulse reads from the environment, parsed and validated once.
 * An abstract class rather than an interface so Nest can inject it by type.
 */
export abstract class AppConfig {
  /**
   * Embedded mode (PULSE_EMBEDDED=true, or `npm run demo`): PostgreSQL is a
   * PGlite in `dataDir` started by the process itself, and the cache, rate
   * limits and socket fan-out live in the process. One process only.
   */
  declare readonly embedded: boolean;
  declare readonly dataDir: string;
  /** `npm run demo`: tickets seeded into an empty organization, and the simulator's pause between writes. */
  declare readonly demoTickets: number;
  declare readonly demoIntervalMs: number;
  /** `npm run demo`: the simulator's rate as a multiple of the seeded history's (1: the same rhythm and volume). */
  declare readonly demoSpeed: number;
  declare readonly nodeEnv: NodeEnv;
  declare readonly host: string;
  declare readonly port: number;
  declare readonly logLevel: LogLevel;
  declare readonly databaseUrl: string;
  declare readonly databasePoolSize: number;
  declare readonly databaseConnectTimeoutMs: number;
  declare readonly analyticsStatementTimeoutMs: number;
  declare readonly analyticsPreparedStatements: number;
  /** Bounds of a ticket write's transaction: how long a statement may run, and wait for a lock. */
  declare readonly writeStatementTimeoutMs: number;
  declare readonly writeLockTimeoutMs: number;
  declare readonly migrationsRun: boolean;
  /**
   * `single`: one Redis at `redisUrl`. `cluster`: a Redis Cluster, whose seed
   * nodes `REDIS_URL` lists (comma-separated); the client finds the others.
   */
  declare readonly redisMode: RedisMode;
  declare readonly redisUrl: string;
  /** Cluster mode: the seed nodes of REDIS_URL, in order (empty in single mode). */
  declare readonly redisClusterNodes: readonly RedisNode[];
  declare readonly redisKeyPrefix: string;
  declare readonly redisCommandTimeoutMs: number;
  declare readonly jwtSecret: string;
  declare readonly cacheTtlSeconds: number;
  declare readonly slaFirstResponseHours: Readonly<Record<Priority, number>>;
  declare readonly exportMaxRows: number;
  /** Raw exports running at once, per instance and per organization; and how long one may wait for its reader. */
  declare readonly exportConcurrency: number;
  declare readonly exportConcurrencyPerOrganization: number;
  declare readonly exportIdleTimeoutMs: number;
  /** How long a shutdown waits for requests in flight before closing their connections. */
  declare readonly shutdownTimeoutMs: number;
  /** Rate limits, per window: requests per caller, forced recomputes and exports per organization. */
  declare readonly rateLimitWindowSeconds: number;
  declare readonly rateLimitRequests: number;
  declare readonly rateLimitForced: number;
  declare readonly rateLimitExports: number;
  /** Messages a caller may send on its sockets per window, and the bytes a socket may leave unread. */
  declare readonly rateLimitSocketEvents: number;
  declare readonly socketMaxUnsentBytes: number;
  /** Origins allowed to call the API and open the socket from a browser; empty: same origin only. */
  declare readonly corsOrigins: readonly string[];
  /**
   * Which proxies may name the client in `X-Forwarded-For`, as Fastify's
   * `trustProxy` takes it: none (false), all (true), a hop count, or
   * addresses and CIDR ranges.
   */
  declare readonly trustProxy: boolean | number | readonly string[];
}

export type RedisMode = 'single' | 'cluster';

/** One seed node of a Redis Cluster, with the credentials its URL carries. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

export class ConfigError extends Error {}

/** SLA_FIRST_RESPONSE_HOURS when unset (API.md §4.4). */
export const DEFAULT_SLA_TARGETS: Readonly<Record<Priority, number>> = { urgent: 1, high: 4, medium: 8, low: 24 };

type Env = Record<string, string | undefined>;

/**
 * Parses the environment into an AppConfig, collecting every problem so one
 * failed boot names all the variables that need fixing. A problem names the
 * variable and what is wrong with it, never its value: values include
 * secrets and URLs with passwords, and boot errors end up in logs.
 */
export function parseConfig(env: Env): AppConfig {
  const problems: string[] = [];
  const read = <T>(name: string, fallback: T | undefined, parse: (raw: string) => T): T => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      if (fallback === undefined) problems.push(`${name} is required`);
      return fallback as T;
    }
    try {
      return parse(raw.trim());
    } catch (error) {
      problems.push(`${name} ${(error as Error).message}`);
      return fallback as T;
    }
  };

  const embedded = read('PULSE_EMBEDDED', false, boolean);
  // In embedded mode the database URL and the secret are filled in by the
  // process that starts the embedded database (src/embedded/).
  const optionalWhenEmbedded = embedded ? '' : undefined;
  const config = {
    embedded,
    dataDir: read('PULSE_DATA_DIR', '.pulse-data', (raw) => raw),
    demoTickets: read('DEMO_TICKETS', 50_000, integer(0, 10_000_000)),
    demoIntervalMs: read('DEMO_INTERVAL_MS', 3000, integer(100, 3_600_000)),
    demoSpeed: read('DEMO_SPEED', 1, decimal(0, 1000)),
    nodeEnv: read('NODE_ENV', 'development', oneOf(['development', 'test', 'production'] as const)),
    host: read('HOST', '0.0.0.0', (raw) => raw),
    port: read('PORT', 3000, integer(0, 65535)),
    logLevel: read('LOG_LEVEL', 'info', oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const)),
    databaseUrl: read('DATABASE_URL', optionalWhenEmbedded, url(['postgres:', 'postgresql:'])),
    databasePoolSize: read('DATABASE_POOL_SIZE', 10, integer(1, 1000)),
    // Embedded: one session serves every connection in turn, so opening one may wait for a long read.
    databaseConnectTimeoutMs: read('DATABASE_CONNECT_TIMEOUT_MS', embedded ? 30_000 : 5000, integer(100, 600_000)),
    analyticsStatementTimeoutMs: read('ANALYTICS_STATEMENT_TIMEOUT_MS', 15_000, integer(100, 3_600_000)),
    // Embedded: PGlite is one session for every connection, so one connection's statement names would clash with another's.
    analyticsPreparedStatements: embedded ? 0 : read('ANALYTICS_PREPARED_STATEMENTS', 32, integer(0, 1000)),
    // Embedded: PGlite (WebAssembly, one session for every connection) is slower; give a large batch room.
    writeStatementTimeoutMs: read('WRITE_STATEMENT_TIMEOUT_MS', embedded ? 30_000 : 5000, integer(100, 3_600_000)),
    writeLockTimeoutMs: read('WRITE_LOCK_TIMEOUT_MS', 3000, integer(100, 3_600_000)),
    migrationsRun: read('MIGRATIONS_RUN', embedded, boolean),
    redisMode: read('REDIS_MODE', 'single', oneOf(['single', 'cluster'] as const)),
    redisUrl: '',
    redisClusterNodes: [] as RedisNode[],
    redisKeyPrefix: read(
      'REDIS_KEY_PREFIX',
      'pulse',
      matching(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1-32 letters, digits, _ . or -'),
    ),
    redisCommandTimeoutMs: read('REDIS_COMMAND_TIMEOUT_MS', 250, integer(10, 10_000)),
    jwtSecret: read('JWT_SECRET', optionalWhenEmbedded, matching(/^.{16,}$/s, 'must be at least 16 characters')),
    cacheTtlSeconds: read('CACHE_TTL_SECONDS', 3600, integer(1, 30 * 86_400)),
    slaFirstResponseHours: read('SLA_FIRST_RESPONSE_HOURS', DEFAULT_SLA_TARGETS, slaTargets),
    exportMaxRows: read('EXPORT_MAX_ROWS', 1_000_000, integer(1, 100_000_000)),
    exportConcurrency: read('EXPORT_CONCURRENCY', 4, integer(1, 1000)),
    exportConcurrencyPerOrganization: read('EXPORT_CONCURRENCY_PER_ORGANIZATION', 2, integer(1, 1000)),
    exportIdleTimeoutMs: read('EXPORT_IDLE_TIMEOUT_MS', 30_000, integer(100, 3_600_000)),
    corsOrigins: read('CORS_ORIGINS', [] as string[], origins),
    shutdownTimeoutMs: read('SHUTDOWN_TIMEOUT_MS', 10_000, integer(0, 600_000)),
    rateLimitWindowSeconds: read('RATE_LIMIT_WINDOW_SECONDS', 60, integer(1, 86_400)),
    rateLimitRequests: read('RATE_LIMIT_REQUESTS', 600, integer(1, 10_000_000)),
    rateLimitForced: read('RATE_LIMIT_FORCED', 30, integer(1, 10_000_000)),
    rateLimitExports: read('RATE_LIMIT_EXPORTS', 10, integer(1, 10_000_000)),
    rateLimitSocketEvents: read('RATE_LIMIT_SOCKET_EVENTS', 120, integer(1, 10_000_000)),
    socketMaxUnsentBytes: read('SOCKET_MAX_UNSENT_BYTES', 1_048_576, integer(65_536, 1_073_741_824)),
    trustProxy: read('TRUST_PROXY', false, trustedProxies),
  };

  if (!embedded) {
    if (config.redisMode === 'cluster') {
      config.redisClusterNodes = read('REDIS_URL', undefined, clusterNodes);
      config.redisUrl = env.REDIS_URL?.trim() ?? '';
    } else {
      config.redisUrl = read('REDIS_URL', undefined, url(['redis:', 'rediss:']));
    }
  }

  if (problems.length > 0) {
    const hint = problems.some((p) => p.startsWith('DATABASE_URL is required'))
      ? '\nTo try Pulse without PostgreSQL or Redis, run `npm run demo` (an embedded database, sample data).'
      : '';
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}${hint}`);
  }
  return Object.freeze(config) as AppConfig;
}

/**
 * Loads `.env` from the working directory when present (variables already set
 * in the environment win), then parses. The one place that reads process.env.
 * `defaults` give way to the environment; `fixed` override it (`npm run demo`
 * fixes PULSE_EMBEDDED).
 */
export function loadConfig(settings: { defaults?: Env; fixed?: Env } = {}): AppConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return parseConfig({ ...settings.defaults, ...process.env, ...settings.fixed });
}

/** Embedded mode's configuration once its database runs: its URL, and the secret kept with its data. */
export function withEmbeddedDatabase(config: AppConfig, databaseUrl: string, jwtSecret: string): AppConfig {
  // AppConfig is declared as a class for injection; its values are plain frozen objects.
  return Object.freeze(Object.assign({}, config, { databaseUrl, jwtSecret }));
}

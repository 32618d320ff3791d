import pg from 'pg';
import type { DataSource } from 'typeorm';

/** How full a connection pool is: what decides whether a caller would wait for a connection. */
export interface PoolUsage {
  /** Connections open (idle or lent out) and the most the pool opens. */
  readonly total: number;
  readonly max: number;
  readonly idle: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
  /** Every connection is lent out and callers wait: a new query would queue behind them. */
  readonly busy: boolean;
}

/**
 * The node-postgres pool under a TypeORM data source. TypeORM has no public
 * way to read its pool's usage: its postgres driver keeps the pool as
 * `master` (declared public but untyped) when there are no replicas. This is
 * the one place that reaches in; it checks what it finds, and
 * `pg-pool.spec.ts` fails if TypeORM stops keeping the pool there.
 */
export function poolOf(db: DataSource): pg.Pool {
  const pool = (db.driver as { master?: unknown }).master;
  if (!(pool instanceof pg.Pool))
    throw new Error('the TypeORM postgres driver no longer exposes its pg Pool as `master`');
  return pool;
}

export function poolUsage(db: DataSource): PoolUsage {
  const pool = poolOf(db);
  const max = pool.options.max ?? 10;
  return {
    total: pool.totalCount,
    max,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
    busy: pool.waitingCount > 0 || (pool.idleCount === 0 && pool.totalCount >= max),
  };
}

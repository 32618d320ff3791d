import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { poolUsage } from '../database/pg-pool.js';

/**
 * Whether PostgreSQL is reachable, which is not the same as whether the
 * write pool has a connection free. A pool whose connections all wait on a
 * lock (a migration, a long maintenance job) would make a ping through it
 * time out on every instance at once; a load balancer would then pull them
 * all, though the database is up and the writes answer 503 on their own
 * bounds. So when the pool is busy the ping goes over a connection of its
 * own, and the check is up, with the pool reported busy.
 */
@Injectable()
export class DatabaseIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  check(timeoutMs: number) {
    return this.indicators
      .check('database')
      .attempt(async ({ signal }) => {
        const usage = poolUsage(this.db);
        if (!usage.busy) {
          await this.db.query('SELECT 1');
          return { pool: 'ready' };
        }
        await this.pingAlone(timeoutMs, signal);
        return { pool: 'busy', connections: usage.total, waiting: usage.waiting };
      })
      .withTimeout(timeoutMs);
  }

  /** `SELECT 1` on a connection opened for it and closed after, outside the pool. */
  private async pingAlone(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const client = new pg.Client({
      connectionString: this.config.databaseUrl,
      connectionTimeoutMillis: timeoutMs,
      application_name: 'pulse-health',
    });
    const close = () => void client.end().catch(() => undefined);
    signal.addEventListener('abort', close, { once: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
    } finally {
      signal.removeEventListener('abort', close);
      close();
    }
  }
}

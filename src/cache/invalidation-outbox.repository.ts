import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Scope } from './cache-scopes.js';

const BATCH = 500;

/**
 * Generation bumps owed to the cache, kept in PostgreSQL. A ticket write
 * records its bump in its own transaction, so a write that committed always
 * left a record, whatever happens to the process or to Redis after the
 * commit; the record is deleted once the bump has reached the cache, and any
 * instance replays what is left.
 */
@Injectable()
export class InvalidationOutbox {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Records a bump; inside a write's transaction when `manager` is that transaction's. */
  async add(manager: EntityManager | null, organizationId: number, scopes: readonly Scope[]): Promise<string> {
    const [row]: { id: string }[] = await (manager ?? this.db.manager).query(
      `INSERT INTO cache_invalidation_outbox (organization_id, scopes) VALUES ($1, $2) RETURNING id`,
      [organizationId, scopes],
    );
    return String(row.id);
  }

  /** The bump has reached the cache. */
  async remove(organizationId: number, id: string): Promise<void> {
    await this.db.query(`DELETE FROM cache_invalidation_outbox WHERE organization_id = $1 AND id = $2`, [
      organizationId,
      id,
    ]);
  }

  async isEmpty(): Promise<boolean> {
    const [row] = await this.db.query(`SELECT NOT EXISTS (SELECT 1 FROM cache_invalidation_outbox) AS empty`);
    return row.empty;
  }

  /**
   * Applies every pending bump and deletes it, organization by organization,
   * oldest first within each. A row is deleted in the same transaction that
   * applied it, so a failure leaves it for the next attempt; concurrent
   * replayers skip each other's rows. Applying a bump twice only costs a
   * recomputation.
   *
   * Every locking statement names one organization: on a database
   * distributed by organization (Citus) it runs on that organization's shard
   * alone, and Citus refuses `FOR UPDATE` across shards. Only the list of
   * organizations reads them all, without locks. A record added after that
   * list was read is left to the next replay (every instance replays once a
   * second).
   */
  async replay(apply: (organizationId: number, scopes: Scope[]) => Promise<void>): Promise<number> {
    const organizations: { organization_id: string }[] = await this.db.query(
      `SELECT DISTINCT organization_id FROM cache_invalidation_outbox`,
    );
    let total = 0;
    for (const { organization_id } of organizations) {
      total += await this.replayOrganization(Number(organization_id), apply);
    }
    return total;
  }

  private async replayOrganization(
    organizationId: number,
    apply: (organizationId: number, scopes: Scope[]) => Promise<void>,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const replayed = await this.db.transaction(async (manager) => {
        const rows: { id: string; scopes: Scope[] }[] = await manager.query(
          `SELECT id, scopes FROM cache_invalidation_outbox WHERE organization_id = $1
           ORDER BY created_at, id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
          [organizationId],
        );
        if (rows.length === 0) return 0;
        await apply(organizationId, [...new Set(rows.flatMap((row) => row.scopes))]);
        await manager.query(
          `DELETE FROM cache_invalidation_outbox WHERE organization_id = $1 AND id = ANY($2::bigint[])`,
          [organizationId, rows.map((row) => row.id)],
        );
        return rows.length;
      });
      total += replayed;
      if (replayed < BATCH) return total;
    }
  }
}

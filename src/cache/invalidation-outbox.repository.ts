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
   * Applies every pending bump and deletes it. A row is deleted in the same
   * transaction that applied it, so a failure leaves it for the next attempt;
   * concurrent replayers skip each other's rows. Applying a bump twice only
   * costs a recomputation.
   */
  async replay(apply: (organizationId: number, scopes: Scope[]) => Promise<void>): Promise<number> {
    let total = 0;
    for (;;) {
      const replayed = await this.db.transaction(async (manager) => {
        const rows: { organization_id: number; id: number; scopes: Scope[] }[] = await manager.query(
          `SELECT organization_id, id, scopes FROM cache_invalidation_outbox
           ORDER BY created_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        );
        const byOrganization = new Map<number, Set<Scope>>();
        for (const row of rows) {
          const scopes = byOrganization.get(row.organization_id) ?? new Set<Scope>();
          row.scopes.forEach((s) => scopes.add(s));
          byOrganization.set(row.organization_id, scopes);
        }
        for (const [organizationId, scopes] of byOrganization) await apply(organizationId, [...scopes]);
        if (rows.length > 0) {
          await manager.query(
            `DELETE FROM cache_invalidation_outbox o USING unnest($1::bigint[], $2::bigint[]) AS d(organization_id, id)
             WHERE o.organization_id = d.organization_id AND o.id = d.id`,
            [rows.map((r) => r.organization_id), rows.map((r) => r.id)],
          );
        }
        return rows.length;
      });
      total += replayed;
      if (replayed < BATCH) return total;
    }
  }
}

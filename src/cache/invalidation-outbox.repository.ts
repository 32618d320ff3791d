import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Scope } from './cache-scopes.js';

const BATCH = 500;

/**
 * Generation bumps that could not reach the cache store when their write
 * committed, kept in PostgreSQL (which did just accept the write) until an
 * instance can apply them.
 */
@Injectable()
export class InvalidationOutbox {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async add(organizationId: number, scopes: readonly Scope[]): Promise<void> {
    await this.db.query(`INSERT INTO cache_invalidation_outbox (organization_id, scopes) VALUES ($1, $2)`, [
      organizationId,
      scopes,
    ]);
  }

  async isEmpty(): Promise<boolean> {
    const [row] = await this.db.query(`SELECT NOT EXISTS (SELECT 1 FROM cache_invalidation_outbox) AS empty`);
    return row.empty;
  }

  /**
   * Applies every pending bump and deletes it. A row is deleted in the same
   * transaction that applied it, so a failure leaves it for the next attempt;
   * concurrent replayers skip each other's rows.
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

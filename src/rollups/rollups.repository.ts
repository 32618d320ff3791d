import type { DataSource, EntityManager } from 'typeorm';
import { contributionsSql, ROLLUP_KEY, upsertContributionsSql } from '../metrics/rollup-lattice.js';
import { SqlParams } from '../metrics/sql-params.js';

/**
 * Advisory lock class of the rollups and sketches: writers share it per
 * organization, a rebuild takes it alone.
 */
const LOCK_CLASS = 1917;
export const lockKey = (org: string) => `${LOCK_CLASS}, (${org}::bigint % 2147483647)::int`;

/** The first rollup row that differs from the raw tickets, and how many differ. */
export interface RollupMismatch {
  readonly key: Record<string, unknown>;
  readonly stored: { count: string | null; sum: string | null };
  readonly expected: { count: string | null; sum: string | null };
  readonly mismatches: number;
}

/**
 * The SQL of `ticket_rollups`: maintenance inside ticket writes, rebuild and
 * verification. Free of Nest, so the CLI (src/cli/rollups.ts) runs it as is.
 */
export class RollupsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Subtracts the old rows' contributions and adds the new ones, in the
   * write's transaction, as one statement for the whole batch, read from the
   * write's staged changes (`changesTable`, see TICKET_CHANGES_TABLE). An
   * update that leaves every rolled column as it was adds and subtracts the
   * same amounts, which cancel out and are not written.
   */
  async apply(manager: EntityManager, organizationId: number, changesTable: string): Promise<void> {
    // Lock and upsert in one round trip (so without bound values; the id is an integer): the
    // database runs them while the write's other listeners compute what they record.
    if (!Number.isSafeInteger(organizationId)) throw new Error(`organization id ${organizationId} is not an integer`);
    await manager.query(
      `SELECT pg_advisory_xact_lock_shared(${lockKey(String(organizationId))});
       ${upsertContributionsSql(`(SELECT * FROM ${changesTable})`, { presum: true })}`,
    );
  }

  /**
   * Recomputes an organization's rollups from its tickets (every
   * organization's without one). Writers of the organization wait for it.
   */
  async rebuild(organizationId: number | null): Promise<void> {
    const organizations =
      organizationId === null
        ? (await this.db.query(`SELECT DISTINCT organization_id AS id FROM tickets ORDER BY 1`)).map(
            (r: { id: number }) => r.id,
          )
        : [organizationId];
    for (const org of organizations) {
      await this.db.transaction(async (manager) => {
        await manager.query(`SELECT pg_advisory_xact_lock(${lockKey('$1')})`, [org]);
        await manager.query(`DELETE FROM ticket_rollups WHERE organization_id = $1`, [org]);
        await manager.query(
          upsertContributionsSql(`(SELECT tk.*, 1 AS sign FROM tickets tk WHERE tk.organization_id = $1)`),
          [org],
        );
      });
    }
  }

  /**
   * Compares the stored rollups with the raw tickets, one organization at a
   * time (each in one statement, so one snapshot); null when they agree. With
   * no organization, every one in turn, up to the first that differs.
   */
  async verify(organizationId: number | null): Promise<RollupMismatch | null> {
    if (organizationId === null) return firstMismatch(this.db, 'ticket_rollups', (org) => this.verify(org));
    const params = new SqlParams();
    const org = params.add(organizationId);
    const where = (alias: string) => `${alias}.organization_id = ${org}`;
    const key = ROLLUP_KEY.join(', ');
    const [row] = await this.db.query(
      `WITH expected AS (${contributionsSql(`(SELECT tk.*, 1 AS sign FROM tickets tk WHERE ${where('tk')})`)}),
            stored AS (SELECT * FROM ticket_rollups s WHERE ${where('s')} AND (s.count <> 0 OR s.sum <> 0)),
            diff AS (
              SELECT ${key}, s.count::text AS stored_count, s.sum::text AS stored_sum,
                     e.count::text AS expected_count, e.sum::text AS expected_sum
              FROM expected e FULL JOIN stored s USING (${key})
              WHERE s.count IS DISTINCT FROM e.count OR s.sum IS DISTINCT FROM e.sum)
       SELECT d.*, count(*) OVER ()::int AS mismatches FROM diff d ORDER BY ${key} LIMIT 1`,
      params.values,
    );
    if (!row) return null;
    const { stored_count, stored_sum, expected_count, expected_sum, mismatches, ...rest } = row;
    return {
      key: rest,
      stored: { count: stored_count, sum: stored_sum },
      expected: { count: expected_count, sum: expected_sum },
      mismatches,
    };
  }
}

/**
 * Verifies organization by organization, every one with tickets or rows in
 * `table`, up to the first that differs: each comparison stays on one
 * organization's rows (one shard on Citus).
 */
export async function firstMismatch<T>(
  db: DataSource,
  table: string,
  verify: (organizationId: number) => Promise<T | null>,
): Promise<T | null> {
  const organizations: { id: string }[] = await db.query(
    `SELECT organization_id AS id FROM tickets UNION SELECT organization_id FROM ${table} ORDER BY 1`,
  );
  for (const { id } of organizations) {
    const mismatch = await verify(Number(id));
    if (mismatch) return mismatch;
  }
  return null;
}

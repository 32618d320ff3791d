import type { DataSource } from 'typeorm';
import { contributionsSql, ROLLUP_KEY, upsertContributionsSql } from '../metrics/rollup-lattice.js';

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

/** The session-level prepared statement of the maintenance upsert (see `preparation`). */
const PREPARED_UPSERT = 'pulse_rollups_maintenance';
const upsertChangesSql = (changesTable: string) =>
  upsertContributionsSql(`(SELECT * FROM ${changesTable})`, { presum: true });

/**
 * The SQL of `ticket_rollups`: maintenance inside ticket writes, rebuild and
 * verification. Free of Nest, so the CLI (src/cli/rollups.ts) runs it as is.
 */
export class RollupsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * The statements that subtract the old rows' contributions and add the new
   * ones, for the write's transaction: the organization's shared lock, then
   * one upsert for the whole batch, read from the write's staged changes
   * (`changesTable`, see TICKET_CHANGES_TABLE). An update that leaves every
   * rolled column as it was adds and subtracts the same amounts, which cancel
   * out and are not written. Without bound values (the id is an integer,
   * checked), so the listener sends them with the sketches' in one round trip.
   * `prepared`: the upsert as the session's prepared statement (`preparation`).
   */
  maintenanceSql(organizationId: number, changesTable: string, prepared = false): string {
    if (!Number.isSafeInteger(organizationId)) throw new Error(`organization id ${organizationId} is not an integer`);
    return `SELECT pg_advisory_xact_lock_shared(${lockKey(String(organizationId))});
       ${prepared ? `EXECUTE ${PREPARED_UPSERT}` : upsertChangesSql(changesTable)}`;
  }

  /** The upsert of `maintenanceSql` prepared in the session (planning it cost more than running it for one ticket). */
  preparation(changesTable: string): { name: string; sql: string } {
    return { name: PREPARED_UPSERT, sql: `PREPARE ${PREPARED_UPSERT} AS ${upsertChangesSql(changesTable)}` };
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
    return firstDifferentRow<RollupMismatch>(this.db, {
      table: 'ticket_rollups',
      key: ROLLUP_KEY,
      values: ['count', 'sum'],
      expected: (tickets) => contributionsSql(tickets),
      organizationId,
    });
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

/**
 * The first row of `table` (by `key`) whose `values` differ from what
 * `expected` computes from the organization's tickets, with how many rows
 * differ, or null when they agree: one statement, so one snapshot. Rows whose
 * values are all 0 count as absent on both sides.
 */
export async function firstDifferentRow<T>(
  db: DataSource,
  spec: {
    table: string;
    key: readonly string[];
    values: readonly string[];
    /** SQL of the expected rows from `tickets`, a relation of the organization's tickets with a `sign`. */
    expected: (tickets: string) => string;
    organizationId: number;
  },
): Promise<T | null> {
  const key = spec.key.join(', ');
  const nonzero = (alias: string) => `(${spec.values.map((v) => `${alias}.${v} <> 0`).join(' OR ')})`;
  const tickets = `(SELECT tk.*, 1 AS sign FROM tickets tk WHERE tk.organization_id = $1)`;
  const [row] = await db.query(
    `WITH expected AS (SELECT * FROM (${spec.expected(tickets)}) c WHERE ${nonzero('c')}),
          stored AS (SELECT * FROM ${spec.table} s WHERE s.organization_id = $1 AND ${nonzero('s')}),
          diff AS (
            SELECT ${key},
                   ${spec.values.map((v) => `s.${v}::text AS "stored.${v}", e.${v}::text AS "expected.${v}"`).join(', ')}
            FROM expected e FULL JOIN stored s USING (${key})
            WHERE ${spec.values.map((v) => `s.${v} IS DISTINCT FROM e.${v}`).join(' OR ')})
     SELECT d.*, count(*) OVER ()::int AS mismatches FROM diff d ORDER BY ${key} LIMIT 1`,
    [spec.organizationId],
  );
  if (!row) return null;
  const { mismatches, ...columns } = row as Record<string, unknown> & { mismatches: number };
  const side = (name: string) => Object.fromEntries(spec.values.map((v) => [v, columns[`${name}.${v}`]]));
  const keyOnly = Object.fromEntries(Object.entries(columns).filter(([column]) => !column.includes('.')));
  return { key: keyOnly, stored: side('stored'), expected: side('expected'), mismatches } as T;
}

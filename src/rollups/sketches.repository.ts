import type { DataSource, EntityManager } from 'typeorm';
import type { Priority } from '../metrics/dimensions.js';
import {
  coarserSketchesSql,
  FINEST_SKETCH_GRAIN,
  SKETCH_KEY,
  sketchContributionsSql,
  storeTargetsSql,
  upsertSketchesSql,
} from '../metrics/sketch-lattice.js';
import { firstDifferentRow, firstMismatch, lockKey } from './rollups.repository.js';

export type SlaTargets = Readonly<Record<Priority, number>>;

/** The first sketch row that differs from the raw tickets, and how many differ. */
export interface SketchMismatch {
  readonly key: Record<string, unknown>;
  readonly stored: { count: string | null; within_target: string | null };
  readonly expected: { count: string | null; within_target: string | null };
  readonly mismatches: number;
}

/** The session-level prepared statement of the maintenance upsert (see `preparation`). */
const PREPARED_UPSERT = 'pulse_sketches_maintenance';
const upsertChangesSql = (changesTable: string, organization: string) =>
  upsertSketchesSql(`(SELECT * FROM ${changesTable} WHERE organization_id = ${organization})`);

/**
 * The SQL of `ticket_sketches` and `ticket_sla_targets` (src/metrics/README.md):
 * maintenance inside ticket writes, rebuild and verification. Free of Nest,
 * so the CLI runs it as is. `targets` are the configured first-response
 * targets: an organization's counts are made with them when it first gets
 * tickets and at every rebuild.
 */
export class SketchesRepository {
  constructor(
    private readonly db: DataSource,
    private readonly targets: SlaTargets,
  ) {}

  /**
   * The statements that subtract the old rows' contributions and add the new
   * ones, for the write's transaction after the rollups' (which took the
   * organization's shared lock): the organization's targets, stored when it
   * has none, then one upsert for the whole batch read from the write's
   * staged changes (`changesTable`, see TICKET_CHANGES_TABLE). Unchanged rows
   * cancel out and are not written. The organization as a literal (an
   * integer, checked): with it, the join on ticket_sla_targets reads that
   * organization's targets alone; on Citus, without it the coordinator read
   * the targets of every shard on every write, and Citus cannot plan a
   * parameter there ("could not create distributed plan"). `prepared`: the
   * upsert as the session's prepared statement (`preparation`).
   */
  maintenanceSql(organizationId: number, changesTable: string, prepared = false): string {
    if (!Number.isSafeInteger(organizationId)) throw new Error(`not an organization id: ${organizationId}`);
    return `${storeTargetsSql(organizationId, this.targets)};
       ${prepared ? `EXECUTE ${PREPARED_UPSERT}(${organizationId})` : upsertChangesSql(changesTable, String(organizationId))}`;
  }

  /**
   * The upsert of `maintenanceSql` prepared in the session, the organization
   * its parameter (PostgreSQL only: Citus cannot plan that parameter).
   */
  preparation(changesTable: string): { name: string; sql: string } {
    return {
      name: PREPARED_UPSERT,
      sql: `PREPARE ${PREPARED_UPSERT}(bigint) AS ${upsertChangesSql(changesTable, '$1')}`,
    };
  }

  /**
   * Recomputes an organization's sketches from its tickets (every
   * organization's without one), with the configured targets. Writers of the
   * organization wait for it.
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
        await manager.query(`DELETE FROM ticket_sketches WHERE organization_id = $1`, [org]);
        await this.storeTargets(manager, org, true);
        await manager.query(
          upsertSketchesSql(
            `(SELECT tk.*, 1 AS sign FROM tickets tk WHERE tk.organization_id = $1)`,
            FINEST_SKETCH_GRAIN,
          ),
          [org],
        );
        for (const statement of coarserSketchesSql()) await manager.query(statement, [org]);
      });
    }
  }

  /**
   * Compares the stored sketches with the raw tickets (binned the same way,
   * counted within the stored targets), one organization at a time (each in
   * one statement); null when they agree. With no organization, every one in
   * turn, up to the first that differs.
   */
  async verify(organizationId: number | null): Promise<SketchMismatch | null> {
    if (organizationId === null) return firstMismatch(this.db, 'ticket_sketches', (org) => this.verify(org));
    return firstDifferentRow<SketchMismatch>(this.db, {
      table: 'ticket_sketches',
      key: SKETCH_KEY,
      values: ['count', 'within_target'],
      expected: (tickets) => sketchContributionsSql(tickets),
      organizationId,
    });
  }

  /** The targets the organization's counts were made with, or null when it has none stored. */
  async storedTargets(organizationId: number): Promise<SlaTargets | null> {
    const rows: { priority: Priority; hours: number }[] = await this.db.query(
      `SELECT priority, hours FROM ticket_sla_targets WHERE organization_id = $1`,
      [organizationId],
    );
    return rows.length === 0 ? null : (Object.fromEntries(rows.map((r) => [r.priority, r.hours])) as SlaTargets);
  }

  /** Stores the configured targets for the organization: only when it has none, or (`replace`) in place of its own. */
  private async storeTargets(manager: EntityManager, organizationId: number, replace: boolean): Promise<void> {
    if (replace) await manager.query(`DELETE FROM ticket_sla_targets WHERE organization_id = $1`, [organizationId]);
    await manager.query(storeTargetsSql(organizationId, this.targets));
  }
}

import type { DataSource, EntityManager } from 'typeorm';
import { contributionsSql, ROLLUP_KEY, upsertContributionsSql } from '../metrics/rollup-lattice.js';
import { SqlParams } from '../metrics/sql-params.js';
import type { TicketChange } from '../tickets/events/tickets-committed.event.js';
import type { Ticket } from '../tickets/ticket.entity.js';

/** The ticket columns a rollup row depends on, with their SQL types. */
const ROLLED_COLUMNS = [
  ['status', 'text'],
  ['priority', 'text'],
  ['channel', 'text'],
  ['category', 'text'],
  ['sentiment_score', 'float8'],
  ['created_at', 'timestamptz'],
  ['first_response_at', 'timestamptz'],
  ['resolved_at', 'timestamptz'],
] as const satisfies readonly (readonly [keyof Ticket, string])[];

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
   * write's transaction, as one statement for the whole batch.
   */
  async apply(manager: EntityManager, organizationId: number, changes: readonly TicketChange[]): Promise<void> {
    const rows: { sign: number; ticket: Ticket }[] = [];
    for (const { before, after } of changes) {
      if (before !== null && sameContribution(before, after)) continue;
      if (before !== null) rows.push({ sign: -1, ticket: before });
      rows.push({ sign: 1, ticket: after });
    }
    if (rows.length === 0) return;
    const params = new SqlParams();
    const org = params.add(organizationId);
    const arrays = [
      `${params.add(rows.map((r) => r.sign))}::int[]`,
      ...ROLLED_COLUMNS.map(([c, type]) => `${params.add(rows.map((r) => r.ticket[c]))}::${type}[]`),
    ];
    const source = `(SELECT ${org}::bigint AS organization_id, u.*
       FROM unnest(${arrays.join(', ')}) AS u(sign, ${ROLLED_COLUMNS.map(([c]) => c).join(', ')}))`;
    await manager.query(`SELECT pg_advisory_xact_lock_shared(${lockKey(org)})`, [organizationId]);
    await manager.query(upsertContributionsSql(source), params.values);
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

  /** Compares the stored rollups with the raw tickets in one snapshot; null when they agree. */
  async verify(organizationId: number | null): Promise<RollupMismatch | null> {
    const params = new SqlParams();
    const org = organizationId === null ? null : params.add(organizationId);
    const where = (alias: string) => (org === null ? 'true' : `${alias}.organization_id = ${org}`);
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

function sameContribution(before: Ticket, after: Ticket): boolean {
  return ROLLED_COLUMNS.every(([c]) => {
    const a = before[c];
    const b = after[c];
    return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
  });
}

import { OPEN_STATUSES, PRIORITIES, type Priority } from './dimensions.js';
import { SqlParams, type CompiledQuery } from './sql-params.js';

/**
 * A ticket waiting for its first response. Written out literally, as the
 * predicate of `tickets_org_unanswered_idx`, so the planner can prove that
 * the index holds every row the queue reads.
 */
export const UNANSWERED_SQL = `t.first_response_at IS NULL AND t.status IN (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/**
 * Per priority, the instants that split the unanswered tickets by age at one
 * `now`: a ticket created before `breach` is older than its target, one
 * created before `risk` older than 75% of it.
 */
export type QueueCutoffs = Readonly<Record<Priority, { readonly breach: Date; readonly risk: Date }>>;

/** One priority of the queue, as the database returns it; priorities without unanswered tickets have no row. */
export interface QueueRow {
  readonly priority: Priority;
  readonly unanswered: number;
  readonly breaching: number;
  readonly at_risk: number;
  readonly oldest: Date;
  /** The oldest ticket not at risk yet: the next to cross 75% of its target. */
  readonly next_at_risk: Date | null;
  /** The oldest ticket not breaching yet: the next to cross its target. */
  readonly next_breaching: Date | null;
}

/**
 * The organization's unanswered tickets by priority, classified against the
 * cutoffs of one `now`, with what the next crossing depends on: one scan of
 * the partial index over the organization's unanswered tickets.
 */
export function compileQueue(organizationId: number, cutoffs: QueueCutoffs): CompiledQuery {
  const params = new SqlParams();
  const org = params.add(organizationId);
  const rows = PRIORITIES.map(
    (p) =>
      `(${params.add(p)}::text, ${params.add(cutoffs[p].breach)}::timestamptz, ${params.add(cutoffs[p].risk)}::timestamptz)`,
  );
  return {
    text: `SELECT t.priority,
             count(*)::int AS unanswered,
             count(*) FILTER (WHERE t.created_at < c.breach)::int AS breaching,
             count(*) FILTER (WHERE t.created_at >= c.breach AND t.created_at < c.risk)::int AS at_risk,
             min(t.created_at) AS oldest,
             min(t.created_at) FILTER (WHERE t.created_at >= c.risk) AS next_at_risk,
             min(t.created_at) FILTER (WHERE t.created_at >= c.breach) AS next_breaching
           FROM tickets t
           JOIN (VALUES ${rows.join(', ')}) AS c(priority, breach, risk) ON c.priority = t.priority
           WHERE t.organization_id = ${org} AND ${UNANSWERED_SQL}
           GROUP BY t.priority`,
    values: params.values,
  };
}

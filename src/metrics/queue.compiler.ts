import { OPEN_STATUSES, PRIORITIES, type Priority } from './dimensions.js';
import { dailyRollupOf } from './rollup-lattice.js';
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

/** The daily rollup of ticket counts and first responses by status and priority. */
const QUEUE_ROLLUP = dailyRollupOf(['status', 'priority'], ['ticket_count', 'response_time']);

/**
 * The organization's unanswered tickets by priority, classified against the
 * cutoffs of one `now`, with what the next crossing depends on.
 * - How many wait: from the daily `status_priority` rollup, summed over all
 *   time: the open tickets of the priority (`ticket_count`) less those of
 *   them answered (`response_time` counts exactly the tickets with a first
 *   response). A few rows per day of history, however many tickets wait.
 * - Which are not breaching yet (created within the priority's target),
 *   which of those are at risk, and the next to cross each threshold: a range
 *   scan of the partial index of unanswered tickets over the last target's
 *   worth of `created_at` only. Breaching is the rest.
 * - The oldest: the first entry of that index for the priority.
 */
export function compileQueue(organizationId: number, cutoffs: QueueCutoffs): CompiledQuery {
  const params = new SqlParams();
  const org = params.add(organizationId);
  const rows = PRIORITIES.map(
    (p) =>
      `(${params.add(p)}::text, ${params.add(cutoffs[p].breach)}::timestamptz, ${params.add(cutoffs[p].risk)}::timestamptz)`,
  );
  const open = OPEN_STATUSES.map((s) => `'${s}'`).join(', ');
  return {
    text: `WITH c(priority, breach, risk) AS (VALUES ${rows.join(', ')}),
           waiting AS (
             SELECT r.priority,
                    sum(CASE WHEN r.metric = 'ticket_count' THEN r.count ELSE -r.count END)::int AS unanswered
             FROM ticket_rollups r
             WHERE r.organization_id = ${org} AND r.rollup = '${QUEUE_ROLLUP.name}' AND r.grain = 1440
               AND r.metric IN ('ticket_count', 'response_time') AND r.status IN (${open})
             GROUP BY r.priority
           )
           SELECT c.priority, w.unanswered,
                  w.unanswered - recent.within_target AS breaching,
                  recent.at_risk,
                  (SELECT min(t.created_at) FROM tickets t
                   WHERE t.organization_id = ${org} AND t.priority = c.priority AND ${UNANSWERED_SQL}) AS oldest,
                  recent.next_at_risk,
                  recent.next_breaching
           FROM c
           JOIN waiting w ON w.priority = c.priority AND w.unanswered > 0
           CROSS JOIN LATERAL (
             SELECT count(*)::int AS within_target,
                    count(*) FILTER (WHERE t.created_at < c.risk)::int AS at_risk,
                    min(t.created_at) FILTER (WHERE t.created_at >= c.risk) AS next_at_risk,
                    min(t.created_at) AS next_breaching
             FROM tickets t
             WHERE t.organization_id = ${org} AND t.priority = c.priority AND ${UNANSWERED_SQL}
               AND t.created_at >= c.breach
           ) recent`,
    values: params.values,
    reusable: true,
  };
}

import { PRIORITIES, type Priority } from '../metrics/dimensions.js';
import type { QueueCutoffs, QueueRow } from '../metrics/queue.compiler.js';

const HOUR_MS = 3_600_000;
/** A ticket is at risk past this share of its target. */
const AT_RISK_SHARE = 0.75;
/**
 * `oldest_unanswered_hours` grows with the clock: it is measured at the start
 * of the minute (the queue's `as_of`), so answers within one minute and one
 * state of the data are identical (one ETag, cacheable) and never more than
 * a minute behind.
 */
const AGE_STEP_MS = 60_000;

/** The order of `by_priority`: the most urgent first. */
const QUEUE_PRIORITIES: readonly Priority[] = ['urgent', 'high', 'medium', 'low'];

export interface QueueFigures {
  unanswered: number;
  breaching: number;
  at_risk: number;
  oldest_unanswered_hours: number | null;
}

export interface SlaQueue extends QueueFigures {
  by_priority: Record<Priority, QueueFigures>;
}

/**
 * The thresholds of each priority in whole milliseconds (the resolution of
 * the stored timestamps): the target, and 75% of it.
 */
export function thresholdsMs(targetsHours: Readonly<Record<Priority, number>>) {
  return Object.fromEntries(
    PRIORITIES.map((p) => [
      p,
      { breach: Math.round(targetsHours[p] * HOUR_MS), risk: Math.round(AT_RISK_SHARE * targetsHours[p] * HOUR_MS) },
    ]),
  ) as Record<Priority, { breach: number; risk: number }>;
}

/** Age > threshold ⇔ created_at < now − threshold: the cutoffs of `compileQueue` at `now`. */
export function queueCutoffs(now: Date, targetsHours: Readonly<Record<Priority, number>>): QueueCutoffs {
  const thresholds = thresholdsMs(targetsHours);
  return Object.fromEntries(
    PRIORITIES.map((p) => [
      p,
      { breach: new Date(now.getTime() - thresholds[p].breach), risk: new Date(now.getTime() - thresholds[p].risk) },
    ]),
  ) as QueueCutoffs;
}

/**
 * The queue of API.md §4.3 at `now` (the rows' cutoffs), with ages measured
 * at `asOf` (the start of now's minute), and the first instant (ms since the
 * epoch) at which the answer would differ without any write: the first
 * millisecond in which some unanswered ticket's age exceeds 75% or 100% of
 * its target, or the next minute's `asOf`, whichever comes first.
 */
export function slaQueue(
  rows: readonly QueueRow[],
  now: Date,
  targetsHours: Readonly<Record<Priority, number>>,
): { queue: SlaQueue; asOf: Date; changesAt: number } {
  const thresholds = thresholdsMs(targetsHours);
  const asOf = Math.floor(now.getTime() / AGE_STEP_MS) * AGE_STEP_MS;
  const ageHours = (createdAt: Date) => (asOf - createdAt.getTime()) / HOUR_MS;
  const crossings: number[] = [asOf + AGE_STEP_MS];
  const byPriority = new Map(rows.map((row) => [row.priority, row]));
  const figures = (priority: Priority): QueueFigures => {
    const row = byPriority.get(priority);
    if (!row) return { unanswered: 0, breaching: 0, at_risk: 0, oldest_unanswered_hours: null };
    if (row.next_at_risk) crossings.push(row.next_at_risk.getTime() + thresholds[priority].risk + 1);
    if (row.next_breaching) crossings.push(row.next_breaching.getTime() + thresholds[priority].breach + 1);
    return {
      unanswered: row.unanswered,
      breaching: row.breaching,
      at_risk: row.at_risk,
      oldest_unanswered_hours: ageHours(row.oldest),
    };
  };
  const by_priority = Object.fromEntries(QUEUE_PRIORITIES.map((p) => [p, figures(p)])) as Record<
    Priority,
    QueueFigures
  >;
  const all = Object.values(by_priority);
  const sum = (field: 'unanswered' | 'breaching' | 'at_risk') => all.reduce((n, f) => n + f[field], 0);
  const oldest = rows.length > 0 ? Math.min(...rows.map((row) => row.oldest.getTime())) : null;
  return {
    queue: {
      unanswered: sum('unanswered'),
      breaching: sum('breaching'),
      at_risk: sum('at_risk'),
      oldest_unanswered_hours: oldest === null ? null : ageHours(new Date(oldest)),
      by_priority,
    },
    asOf: new Date(asOf),
    changesAt: Math.min(...crossings),
  };
}

import { METRIC_TYPES, isMetricType, type MetricType } from '../metrics/metric-registry.js';
import { invalid } from '../common/errors.js';

/** The kinds of cached result; each is also a scope `DELETE /cache` can name. */
export const CACHE_SECTIONS = ['time-series', 'aggregations', 'dashboard', 'performance', 'distribution'] as const;
export type CacheSection = (typeof CACHE_SECTIONS)[number];

/**
 * A span of UTC calendar time: a month (`m2025-03`) or a whole year
 * (`y2025`). A write bumps, per metric, the month and the year of each
 * timestamp that places the ticket in that metric, before and after.
 */
export type Span = `m${string}` | `y${string}`;

/**
 * A scope is a set of cached results sharing one generation counter: the
 * whole organization, a section, every result computed from a metric (what
 * an admin's `DELETE` names), the results of a metric whose range touches a
 * span (what a ticket write bumps), or every result that reads the tickets
 * as they are now, whatever their timestamps (`current`).
 */
export type Scope =
  'org' | 'current' | `section:${CacheSection}` | `metric:${MetricType}` | `metric:${MetricType}@${Span}`;

/**
 * Sections whose results also read the organization's tickets as they are
 * now, whatever their timestamps (the dashboard's current_backlog and queue):
 * a write to an open ticket changes them whichever range they cover, so they
 * depend on the `current` generation, which such writes bump. It is never
 * scoped in time.
 */
const READS_CURRENT: readonly CacheSection[] = ['dashboard'];

/** What a cached result depends on, beyond its section and organization. */
export interface ResultDependencies {
  /** Every metric the result is computed from. */
  readonly metrics: readonly MetricType[];
  /**
   * The range those metrics are read over: a ticket write makes the result
   * stale only through the spans of this range (writes never bump a metric's
   * own scope, which only an admin's `DELETE` does).
   */
  readonly range: { readonly start: Date; readonly end: Date };
}

/**
 * The scopes whose generations a result depends on: the organization, its
 * section, `current` if its section reads the tickets as they are now, each
 * metric, and each metric's spans over the range.
 */
export function scopesOf(section: CacheSection, { metrics, range }: ResultDependencies): Scope[] {
  const ordered = METRIC_TYPES.filter((m) => metrics.includes(m));
  const spans = spansOf(range.start, range.end);
  return [
    'org',
    `section:${section}`,
    ...(READS_CURRENT.includes(section) ? (['current'] as const) : []),
    ...ordered.map((m): Scope => `metric:${m}`),
    ...ordered.flatMap((m) => spans.map((span): Scope => `metric:${m}@${span}`)),
  ];
}

/**
 * The spans a range `[start, end)` touches: each UTC year all of whose months
 * it touches as one span, the months of the other years one by one. So a
 * range costs at most 22 month spans plus one per whole year, and is never
 * coarser than the months it touches: a write in any month of a whole year
 * touches the range. An empty range touches nothing.
 */
export function spansOf(start: Date, end: Date): Span[] {
  if (!(start.getTime() < end.getTime())) return [];
  const last = new Date(end.getTime() - 1);
  const spans: Span[] = [];
  for (let year = start.getUTCFullYear(); year <= last.getUTCFullYear(); year++) {
    const first = year === start.getUTCFullYear() ? start.getUTCMonth() : 0;
    const final = year === last.getUTCFullYear() ? last.getUTCMonth() : 11;
    if (first === 0 && final === 11) spans.push(yearSpan(year));
    else for (let month = first; month <= final; month++) spans.push(monthSpan(year, month));
  }
  return spans;
}

/** The spans a write at `at` changes: its month and its year. */
export function spansAt(at: Date): [Span, Span] {
  return spansOfMonth(at.getUTCFullYear(), at.getUTCMonth());
}

/** The spans of a write in a UTC month (`month` 0–11): the month and its year. */
export function spansOfMonth(year: number, month: number): [Span, Span] {
  return [monthSpan(year, month), yearSpan(year)];
}

const yearSpan = (year: number): Span => `y${year}`;
const monthSpan = (year: number, month: number): Span => `m${year}-${String(month + 1).padStart(2, '0')}`;

/** The scope a `DELETE /analytics/cache?pattern=` names, or a 400 listing the choices. */
export function scopeOfPattern(pattern: string | undefined): { pattern: string; scope: Scope } {
  const name = pattern ?? 'all';
  if (name === 'all') return { pattern: name, scope: 'org' };
  if ((CACHE_SECTIONS as readonly string[]).includes(name))
    return { pattern: name, scope: `section:${name as CacheSection}` };
  if (isMetricType(name)) return { pattern: name, scope: `metric:${name}` };
  throw invalid(`pattern must be one of all, ${CACHE_SECTIONS.join(', ')}, ${METRIC_TYPES.join(', ')}`);
}

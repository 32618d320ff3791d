import { METRIC_TYPES, isMetricType, type MetricType } from '../metrics/metric-registry.js';
import { invalid } from '../common/errors.js';

/** The kinds of cached result; each is also a scope `DELETE /cache` can name. */
export const CACHE_SECTIONS = ['time-series', 'aggregations', 'dashboard', 'performance', 'distribution'] as const;
export type CacheSection = (typeof CACHE_SECTIONS)[number];

/**
 * A scope is a set of cached results sharing one generation counter: the
 * whole organization, a section, every result computed from a metric, or
 * every result that reads the tickets as they are now (`current`).
 */
export type Scope = 'org' | `section:${CacheSection}` | `metric:${MetricType}` | 'current';

/**
 * Sections whose results also read the organization's tickets as they are
 * now, whatever their timestamps (the dashboard's current_backlog and queue):
 * a write to an open ticket changes them whichever range they cover, so they
 * depend on the `current` generation, which such writes bump.
 */
const READS_CURRENT: readonly CacheSection[] = ['dashboard'];

/** The scopes whose generations a result of `section` over `metrics` depends on. */
export function scopesOf(section: CacheSection, metrics: readonly MetricType[]): Scope[] {
  const ordered = METRIC_TYPES.filter((m) => metrics.includes(m));
  const current: Scope[] = READS_CURRENT.includes(section) ? ['current'] : [];
  return ['org', `section:${section}`, ...ordered.map((m): Scope => `metric:${m}`), ...current];
}

export const metricScopes = (metrics: readonly MetricType[]): Scope[] => metrics.map((m): Scope => `metric:${m}`);

/** The scope a `DELETE /analytics/cache?pattern=` names, or a 400 listing the choices. */
export function scopeOfPattern(pattern: string | undefined): { pattern: string; scope: Scope } {
  const name = pattern ?? 'all';
  if (name === 'all') return { pattern: name, scope: 'org' };
  if ((CACHE_SECTIONS as readonly string[]).includes(name))
    return { pattern: name, scope: `section:${name as CacheSection}` };
  if (isMetricType(name)) return { pattern: name, scope: `metric:${name}` };
  throw invalid(`pattern must be one of all, ${CACHE_SECTIONS.join(', ')}, ${METRIC_TYPES.join(', ')}`);
}

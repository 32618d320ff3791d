import { canonicalZone, trailingRange } from '../common/time.js';
import { countBuckets } from '../metrics/buckets.js';
import { DIMENSION_NAMES, DIMENSIONS, type DimensionName, type Filters } from '../metrics/dimensions.js';
import { filtersProblems } from '../metrics/dto/filters.body.js';
import { normalizeFilters } from '../metrics/filters.js';
import { GRANULARITIES, MAX_BUCKETS, type Granularity } from '../metrics/granularity.js';
import { METRIC_TYPES, isMetricType, type MetricType } from '../metrics/metric-registry.js';
import { digestOf } from '../cache/cache-keys.js';

export const WINDOWS = { '1h': 1, '24h': 24, '7d': 168, '30d': 720 } as const;
export type Window = keyof typeof WINDOWS;

export interface NormalizedSubscription {
  metrics: MetricType[];
  interval: number;
  granularity: Granularity;
  window: Window;
  timezone: string;
  filters: Filters;
}

export class SubscriptionError extends Error {}

const KNOWN = ['metrics', 'interval', 'granularity', 'window', 'timezone', 'filters'];

/** Validates a subscribe message into its normalized form; equal subscriptions normalize equally. */
export function normalizeSubscription(message: unknown): NormalizedSubscription {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new SubscriptionError('subscribe expects an object');
  }
  const input = message as Record<string, unknown>;
  const unknown = Object.keys(input).filter((key) => !KNOWN.includes(key));
  if (unknown.length > 0) throw new SubscriptionError(`unknown field(s): ${unknown.join(', ')}`);

  const { metrics, interval = 30, granularity = 'hourly', window = '24h', timezone = 'UTC', filters = {} } = input;
  if (
    !Array.isArray(metrics) ||
    metrics.length === 0 ||
    !metrics.every((m) => typeof m === 'string' && isMetricType(m))
  ) {
    throw new SubscriptionError(`metrics must be a non-empty list of ${METRIC_TYPES.join(', ')}`);
  }
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1 || interval > 3600) {
    throw new SubscriptionError('interval must be a whole number of seconds from 1 to 3600');
  }
  if (typeof granularity !== 'string' || !(GRANULARITIES as readonly string[]).includes(granularity)) {
    throw new SubscriptionError(`granularity must be one of ${GRANULARITIES.join(', ')}`);
  }
  // Own keys only: `'toString' in WINDOWS` is true.
  if (typeof window !== 'string' || !Object.hasOwn(WINDOWS, window)) {
    throw new SubscriptionError(`window must be one of ${Object.keys(WINDOWS).join(', ')}`);
  }
  const zone = typeof timezone === 'string' ? zoneOf(timezone) : null;
  if (!zone) throw new SubscriptionError('timezone must be an IANA time zone name');
  const problems = filtersProblems(filters, 'filters');
  if (problems.length > 0) throw new SubscriptionError(problems.join('; '));

  const subscription: NormalizedSubscription = {
    metrics: METRIC_TYPES.filter((m) => (metrics as string[]).includes(m)),
    interval,
    granularity: granularity as Granularity,
    window: window as Window,
    timezone: zone,
    filters: normalizeFilters(filters as Record<string, string[]>),
  };
  const { start, end } = windowRange(subscription, new Date());
  if (countBuckets(start, end, subscription.granularity, zone) > MAX_BUCKETS) {
    throw new SubscriptionError(`the window has more than ${MAX_BUCKETS} ${granularity} buckets`);
  }
  return subscription;
}

/**
 * canonicalZone builds an Intl formatter (~150 µs); subscribes name few
 * zones and a flood of them names the same ones, so answers are kept
 * (at most ZONES_KEPT, then forgotten all at once).
 */
const ZONES_KEPT = 1000;
const zones = new Map<string, string | null>();
function zoneOf(name: string): string | null {
  let zone = zones.get(name);
  if (zone === undefined) {
    if (zones.size >= ZONES_KEPT) zones.clear();
    zone = canonicalZone(name);
    zones.set(name, zone);
  }
  return zone;
}

export function windowRange(subscription: NormalizedSubscription, now: Date): { start: Date; end: Date } {
  return trailingRange(WINDOWS[subscription.window], now);
}

/** The room of every socket of one organization with this subscription. */
export function subscriptionRoom(organizationId: number, subscription: NormalizedSubscription): string {
  return `sub:${organizationId}:${digestOf(subscription)}`;
}

/** Whether a ticket with these dimension values passes the subscription's filters. */
export function matchesFilters(filters: Filters, valueOf: (name: DimensionName) => string | null): boolean {
  return DIMENSION_NAMES.every((name) => {
    const wanted = filters[name];
    if (!wanted || wanted.length === 0) return true;
    const value = valueOf(name) ?? DIMENSIONS[name].nullAs ?? null;
    return value !== null && wanted.includes(value);
  });
}

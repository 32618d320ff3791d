import { invalid, DomainError } from '../common/errors.js';
import { canonicalZone, parseTimestamp, periodRange, type Period } from '../common/time.js';
import { countBuckets } from '../metrics/buckets.js';
import { MAX_BUCKETS, type Granularity } from '../metrics/granularity.js';

export interface RangeInput {
  start_date?: string;
  end_date?: string;
  period?: Period;
  timezone?: string;
}

export interface ResolvedRange {
  readonly start: Date;
  readonly end: Date;
  readonly timezone: string;
}

/** The canonical zone name, or a 400 naming the parameter. */
export function resolveTimezone(raw: string | undefined): string {
  if (raw === undefined) return 'UTC';
  const zone = canonicalZone(raw);
  if (!zone) throw invalid(`timezone "${raw}" is not an IANA time zone name (such as Europe/Berlin)`);
  return zone;
}

/**
 * The half-open range of a request: `period`, or `start_date` + `end_date`
 * read in the request's zone. `fallback` is the period used when neither is
 * given (dashboard, performance); without one a range is required.
 */
export function resolveRange(input: RangeInput, now: Date, fallback?: Period): ResolvedRange {
  const timezone = resolveTimezone(input.timezone);
  const hasDates = input.start_date !== undefined || input.end_date !== undefined;
  if (input.period !== undefined && hasDates) {
    throw invalid('give either period or start_date and end_date, not both');
  }
  if (input.period !== undefined || (!hasDates && fallback)) {
    return { ...periodRange(input.period ?? fallback!, now), timezone };
  }
  if (input.start_date === undefined || input.end_date === undefined) {
    throw invalid(
      hasDates
        ? 'start_date and end_date must be given together'
        : 'a range is required: give period, or start_date and end_date',
    );
  }
  const start = parseTimestamp(input.start_date, timezone);
  const end = parseTimestamp(input.end_date, timezone);
  if (!start) throw invalid('start_date must be an ISO 8601 timestamp');
  if (!end) throw invalid('end_date must be an ISO 8601 timestamp');
  if (start >= end) throw invalid('start_date must be before end_date');
  return { start, end, timezone };
}

/** Refuses a series of more than MAX_BUCKETS buckets before anything is queried. */
export function assertBucketLimit(range: ResolvedRange, granularity: Granularity): void {
  const buckets = countBuckets(range.start, range.end, granularity, range.timezone);
  if (buckets > MAX_BUCKETS) {
    throw new DomainError(
      'BUCKET_LIMIT_EXCEEDED',
      `the series would have ${buckets} ${granularity} buckets; the limit is ${MAX_BUCKETS}: narrow the range or use a coarser granularity`,
    );
  }
}

/**
 * The dimension registry: every attribute analytics may filter or group by,
 * defined once with its column and the values it admits.
 */
export const STATUSES = ['open', 'in_progress', 'pending', 'resolved', 'closed'] as const;
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export const OPEN_STATUSES: readonly Status[] = ['open', 'in_progress', 'pending'];
export const CLOSED_STATUSES: readonly Status[] = ['resolved', 'closed'];

export type Status = (typeof STATUSES)[number];
export type Priority = (typeof PRIORITIES)[number];

export const SLUG_PATTERN = /^[a-z0-9_-]{1,64}$/;
/** The value that stands for "no assignee" in filters and results. */
export const UNASSIGNED = 'unassigned';

export const DIMENSION_NAMES = ['status', 'priority', 'channel', 'category', 'assignee_id'] as const;
export type DimensionName = (typeof DIMENSION_NAMES)[number];

export interface Dimension {
  readonly name: DimensionName;
  /** SQL column; never user text. */
  readonly column: string;
  /** SQL of the value a ticket is grouped under (over the alias `t`). */
  readonly sql: string;
  /** Returns why a value is not admissible, or null when it is. */
  readonly check: (value: string) => string | null;
  /** Whether a null column is reported (and filtered) as `unassigned`. */
  readonly nullAs?: string;
}

const enumCheck = (allowed: readonly string[]) => (value: string) =>
  allowed.includes(value) ? null : `must be one of ${allowed.join(', ')}`;
const slugCheck = (value: string) => (SLUG_PATTERN.test(value) ? null : 'must match ^[a-z0-9_-]{1,64}$');
const assigneeCheck = (value: string) => {
  if (value.length < 1 || value.length > 128) return 'must be 1-128 characters';
  // PostgreSQL text cannot hold NUL: refused here rather than failing in the query.
  return value.includes('\0') ? 'must not contain NUL characters' : null;
};

export const DIMENSIONS: Readonly<Record<DimensionName, Dimension>> = {
  status: { name: 'status', column: 'status', sql: 't.status', check: enumCheck(STATUSES) },
  priority: { name: 'priority', column: 'priority', sql: 't.priority', check: enumCheck(PRIORITIES) },
  channel: { name: 'channel', column: 'channel', sql: 't.channel', check: slugCheck },
  category: { name: 'category', column: 'category', sql: 't.category', check: slugCheck },
  assignee_id: {
    name: 'assignee_id',
    column: 'assignee_id',
    sql: `coalesce(t.assignee_id, '${UNASSIGNED}')`,
    check: assigneeCheck,
    nullAs: UNASSIGNED,
  },
};

/**
 * What results can be broken down by: the dimensions, and the sentiment
 * bands of the dashboard (positive above 0.2, negative below -0.2).
 */
export type GroupingName = DimensionName | 'sentiment_band';

export const GROUPING_SQL: Readonly<Record<GroupingName, string>> = {
  ...(Object.fromEntries(DIMENSION_NAMES.map((name) => [name, DIMENSIONS[name].sql])) as Record<DimensionName, string>),
  sentiment_band: `CASE WHEN t.sentiment_score > 0.2 THEN 'positive' WHEN t.sentiment_score < -0.2 THEN 'negative' ELSE 'neutral' END`,
};

export function isDimensionName(name: string): name is DimensionName {
  return (DIMENSION_NAMES as readonly string[]).includes(name);
}

/** Filter values by dimension, each list sorted and free of duplicates. */
export type Filters = Partial<Record<DimensionName, readonly string[]>>;

export const GRANULARITIES = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** PostgreSQL date_trunc unit and generate_series step of each granularity. */
export const GRANULARITY_UNITS: Readonly<Record<Granularity, { unit: string; step: string }>> = {
  hourly: { unit: 'hour', step: '1 hour' },
  daily: { unit: 'day', step: '1 day' },
  weekly: { unit: 'week', step: '1 week' },
  monthly: { unit: 'month', step: '1 month' },
  quarterly: { unit: 'quarter', step: '3 months' },
  yearly: { unit: 'year', step: '1 year' },
};

export const MAX_BUCKETS = 10_000;

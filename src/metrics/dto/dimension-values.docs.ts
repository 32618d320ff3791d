import type { SchemaObject } from '@nestjs/swagger';
import { PRIORITIES, SLUG_PATTERN, STATUSES, UNASSIGNED, type DimensionName } from '../dimensions.js';

const SLUG = { type: 'string', pattern: SLUG_PATTERN.source } as const;

/** The OpenAPI schema of one value of each dimension, as the dimension registry admits it. */
export const DIMENSION_VALUE_SCHEMAS: Readonly<Record<DimensionName, SchemaObject>> = {
  status: { type: 'string', enum: [...STATUSES] },
  priority: { type: 'string', enum: [...PRIORITIES] },
  channel: { ...SLUG, example: 'email' },
  category: { ...SLUG, example: 'billing' },
  assignee_id: { type: 'string', minLength: 1, maxLength: 128 },
};

/** What a filter on the dimension matches; the same in query parameters and bodies. */
export function filterDescription(dimension: DimensionName): string {
  const base = `Only tickets whose ${dimension} is one of these values.`;
  return dimension === 'assignee_id' ? `${base} \`${UNASSIGNED}\` matches tickets with no assignee.` : base;
}

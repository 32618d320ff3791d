import { DIMENSION_NAMES, DIMENSIONS, type DimensionName, type Filters } from './dimensions.js';
import type { SqlParams } from './sql-params.js';

/** Sorted, de-duplicated filter values, empty dimensions dropped: equal filters, equal cache keys. */
export function normalizeFilters(input: Partial<Record<DimensionName, readonly string[] | undefined>>): Filters {
  const filters: Record<string, string[]> = {};
  for (const name of DIMENSION_NAMES) {
    const values = input[name];
    if (values && values.length > 0) filters[name] = [...new Set(values)].sort();
  }
  return filters;
}

/**
 * SQL predicates (over the alias `t`) for the filters, values bound. A
 * dimension's `nullAs` value (`unassigned`) matches the NULL column.
 */
export function filterPredicates(filters: Filters, params: SqlParams): string[] {
  const predicates: string[] = [];
  for (const name of DIMENSION_NAMES) {
    const values = filters[name];
    if (!values || values.length === 0) continue;
    const { column, nullAs } = DIMENSIONS[name];
    const concrete = nullAs ? values.filter((v) => v !== nullAs) : values;
    const parts: string[] = [];
    if (concrete.length > 0) parts.push(`t.${column} = ANY(${params.add(concrete)}::text[])`);
    if (nullAs && values.includes(nullAs)) parts.push(`t.${column} IS NULL`);
    predicates.push(parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`);
  }
  return predicates;
}

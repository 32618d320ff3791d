import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { registerDecorator } from 'class-validator';
import { DIMENSION_NAMES, DIMENSIONS, isDimensionName, type DimensionName } from '../dimensions.js';
import { DIMENSION_VALUE_SCHEMAS, filterDescription } from './dimension-values.docs.js';

const MAX_FILTER_VALUES = 100;

/** Filters in a JSON body: `{"status": ["open"], "priority": ["high"]}`. */
export type FiltersBody = Partial<Record<DimensionName, string[]>>;

/** Why a body `filters` object is not admissible, one message per problem; empty when it is. */
export function filtersProblems(value: unknown, property: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [`${property} must be an object of dimension: [values]`];
  }
  return Object.entries(value).flatMap(([key, values]) => {
    if (!isDimensionName(key)) return [`${property}.${key} is not a dimension; allowed: ${DIMENSION_NAMES.join(', ')}`];
    if (!Array.isArray(values) || values.length > MAX_FILTER_VALUES) {
      return [`${property}.${key} must be an array of at most ${MAX_FILTER_VALUES} values`];
    }
    return values.flatMap((v, i) => {
      const problem = typeof v === 'string' ? DIMENSIONS[key].check(v) : 'must be a string';
      return problem ? [`${property}.${key}.${i} value "${String(v)}" ${problem}`] : [];
    });
  });
}

/** Validates a body `filters` object against the dimension registry. */
export function IsFilters() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isFilters',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => filtersProblems(value, propertyName).length === 0,
        defaultMessage: (args) => filtersProblems(args?.value, propertyName).join('; '),
      },
    });
}

const FilterProperty = (dimension: DimensionName) =>
  ApiPropertyOptional({
    type: 'array',
    items: DIMENSION_VALUE_SCHEMAS[dimension],
    maxItems: MAX_FILTER_VALUES,
    description: filterDescription(dimension),
  });

/** The documented shape of a body `filters` object; `IsFilters` is what validates it. */
@ApiSchema({
  name: 'Filters',
  description: `Filters by dimension; a key that is not one of ${DIMENSION_NAMES.join(', ')} is refused with 400.`,
})
export class FiltersBodySchema {
  @FilterProperty('status')
  status?: string[];

  @FilterProperty('priority')
  priority?: string[];

  @FilterProperty('channel')
  channel?: string[];

  @FilterProperty('category')
  category?: string[];

  @FilterProperty('assignee_id')
  assignee_id?: string[];
}

import { registerDecorator } from 'class-validator';
import { DIMENSION_NAMES, DIMENSIONS, isDimensionName, type DimensionName } from '../dimensions.js';

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

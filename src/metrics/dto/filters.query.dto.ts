import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, registerDecorator } from 'class-validator';
import { Optional, QueryList } from '../../common/validation.js';
import { DIMENSIONS, type DimensionName } from '../dimensions.js';
import { DIMENSION_VALUE_SCHEMAS, filterDescription } from './dimension-values.docs.js';

const MAX_FILTER_VALUES = 100;

/** Every value is admissible for the dimension, as the dimension registry defines it. */
export function IsDimensionValue(dimension: DimensionName) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isDimensionValue',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (values: unknown) =>
          Array.isArray(values) &&
          values.every((v) => typeof v === 'string' && DIMENSIONS[dimension].check(v) === null),
        defaultMessage: (args) => {
          if (!Array.isArray(args?.value)) return `${propertyName} must be a list of values`;
          const bad = (args.value as unknown[]).find(
            (v) => typeof v !== 'string' || DIMENSIONS[dimension].check(v) !== null,
          );
          return `${propertyName} value "${String(bad)}" ${DIMENSIONS[dimension].check(String(bad)) ?? 'must be a string'}`;
        },
      },
    });
}

/** Documents a filter as a repeated query parameter (OpenAPI's form style, exploded). */
const FilterParameter = (dimension: DimensionName) =>
  ApiPropertyOptional({
    type: 'array',
    items: DIMENSION_VALUE_SCHEMAS[dimension],
    maxItems: MAX_FILTER_VALUES,
    description: `${filterDescription(dimension)} Repeat the parameter for several values (at most ${MAX_FILTER_VALUES}).`,
    // Parameter (not schema) fields; the document copies them onto the query parameter.
    ...({ style: 'form', explode: true } as object),
  });

/** Filters as repeated query parameters: `?status=open&status=pending`. */
export class FiltersQueryDto {
  @FilterParameter('status')
  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('status')
  status?: string[];

  @FilterParameter('priority')
  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('priority')
  priority?: string[];

  @FilterParameter('channel')
  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('channel')
  channel?: string[];

  @FilterParameter('category')
  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('category')
  category?: string[];

  @FilterParameter('assignee_id')
  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('assignee_id')
  assignee_id?: string[];
}

import { ArrayMaxSize, IsArray, IsString, registerDecorator } from 'class-validator';
import { Optional, QueryList } from '../../common/validation.js';
import { DIMENSIONS, type DimensionName } from '../dimensions.js';

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

/** Filters as repeated query parameters: `?status=open&status=pending`. */
export class FiltersQueryDto {
  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('status')
  status?: string[];

  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('priority')
  priority?: string[];

  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('channel')
  channel?: string[];

  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('category')
  category?: string[];

  @Optional()
  @QueryList()
  @IsArray()
  @ArrayMaxSize(MAX_FILTER_VALUES)
  @IsString({ each: true })
  @IsDimensionValue('assignee_id')
  assignee_id?: string[];
}

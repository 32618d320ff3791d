import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, IsString, Matches, Max, MaxLength, Min, registerDecorator } from 'class-validator';
import { Type } from 'class-transformer';
import { canonicalZone } from '../../common/time.js';
import { Optional } from '../../common/validation.js';
import { FiltersQueryDto } from '../../metrics/dto/filters.query.dto.js';
import { WINDOWS } from '../subscription.js';

/** An IANA zone name, as the analytics endpoints take it. */
function IsZone() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isZone',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && canonicalZone(value) !== null,
        defaultMessage: () => `${propertyName} must be an IANA time zone such as Europe/Berlin`,
      },
    });
}

/**
 * How one screen is set up, all in its URL, so each TV shows its team: the
 * page reads these itself; the server checks them so a typo is a 400 naming
 * the parameter, not a board that silently shows something else.
 */
export class WallboardQueryDto extends PickType(FiltersQueryDto, ['priority', 'channel', 'category'] as const) {
  @ApiPropertyOptional({ description: 'A token for the page to connect with; without one the page asks for it.' })
  @Optional()
  @IsString()
  @MaxLength(4096)
  token?: string;

  @ApiPropertyOptional({
    enum: Object.keys(WINDOWS),
    default: '24h',
    description: 'The window of every count tile and the chart.',
  })
  @Optional()
  @IsIn(Object.keys(WINDOWS))
  window?: string;

  @ApiPropertyOptional({
    example: 'Europe/Berlin',
    description: 'IANA zone of the clock and the chart; default the browser’s.',
  })
  @Optional()
  @IsZone()
  timezone?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 3600,
    default: 10,
    description: 'Seconds between live updates.',
  })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  interval?: number;

  @ApiPropertyOptional({
    type: Number,
    minimum: 0,
    maximum: 100,
    description: 'SLA compliance (percent) below which its tile turns red.',
  })
  @Optional()
  @Type(() => Number)
  @IsNumber({}, { message: 'sla_target must be a number (percent)' })
  @Min(0)
  @Max(100)
  sla_target?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'Unanswered tickets above which that tile turns amber.',
  })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  backlog_max?: number;

  @ApiPropertyOptional({ maxLength: 80, description: 'Heading of the board, e.g. the team’s name.' })
  @Optional()
  @IsString()
  @MaxLength(80)
  @Matches(/^[^<>]*$/, { message: 'title must not contain < or >' })
  title?: string;

  @ApiPropertyOptional({ enum: ['dark', 'light'], default: 'dark' })
  @Optional()
  @IsIn(['dark', 'light'])
  theme?: string;
}

import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { FiltersQueryDto } from '../../metrics/dto/filters.query.dto.js';

export class ListTicketsQueryDto extends FiltersQueryDto {
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @Optional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

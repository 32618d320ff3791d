import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { Optional } from '../../common/validation.js';
import { FiltersQueryDto } from '../../metrics/dto/filters.query.dto.js';

export class ListTicketsQueryDto extends FiltersQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50, description: 'Page size.' })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({
    type: String,
    maxLength: 512,
    description: 'The next_cursor of the previous page; omit for the first page.',
  })
  @Optional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

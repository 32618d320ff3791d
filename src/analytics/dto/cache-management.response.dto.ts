import { ApiProperty } from '@nestjs/swagger';

/** The body of `DELETE /analytics/cache` (documentation only). */
export class CacheInvalidatedResponseDto {
  @ApiProperty({ type: String, example: 'Cache invalidated successfully' })
  message: string;

  @ApiProperty({ type: 'integer', example: 1 })
  organization_id: number;

  @ApiProperty({ type: String, example: 'all', description: 'The pattern applied.' })
  pattern: string;
}

/** The body of `POST /analytics/refresh-cache`. */
export class CacheRefreshResponseDto {
  @ApiProperty({ type: String, example: 'Cache refresh initiated in background' })
  message: string;

  @ApiProperty({ type: 'integer', example: 1 })
  organization_id: number;
}

/** The body of `GET /analytics/cache/stats`. */
export class CacheStatsResponseDto {
  @ApiProperty({ type: 'integer', example: 1 })
  organization_id: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Results served from the cache (HIT).' })
  hits: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Results computed (MISS and BYPASS).' })
  misses: number;

  @ApiProperty({ type: Number, minimum: 0, maximum: 1, description: 'hits / (hits + misses); 0 before any.' })
  hit_ratio: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Results stored now (may be approximate).' })
  entries: number;
}

import { Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { IsString, MaxLength } from 'class-validator';
import { Caller, RequireRole } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/auth.types.js';
import { Optional } from '../common/validation.js';
import { CacheManagementService } from './cache-management.service.js';

export class InvalidateCacheQueryDto {
  @Optional()
  @IsString()
  @MaxLength(64)
  pattern?: string;
}

@Controller('analytics')
@RequireRole('admin')
export class CacheManagementController {
  constructor(private readonly cache: CacheManagementService) {}

  @Delete('cache')
  invalidate(@Caller() caller: Principal, @Query() query: InvalidateCacheQueryDto) {
    return this.cache.invalidate(caller, query.pattern);
  }

  @Post('refresh-cache')
  @HttpCode(202)
  refresh(@Caller() caller: Principal) {
    return this.cache.refresh(caller);
  }

  @Get('cache/stats')
  stats(@Caller() caller: Principal) {
    return this.cache.stats(caller);
  }
}

import { Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Caller, RequireRole } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/auth.types.js';
import { CacheStatsDocs, InvalidateCacheDocs, RefreshCacheDocs } from './cache-management.docs.js';
import { CacheManagementService } from './cache-management.service.js';
import { InvalidateCacheQueryDto } from './dto/invalidate-cache.query.dto.js';

@ApiTags('cache')
@Controller('analytics')
@RequireRole('admin')
export class CacheManagementController {
  constructor(private readonly cache: CacheManagementService) {}

  @Delete('cache')
  @InvalidateCacheDocs()
  invalidate(@Caller() caller: Principal, @Query() query: InvalidateCacheQueryDto) {
    return this.cache.invalidate(caller, query.pattern);
  }

  @Post('refresh-cache')
  @HttpCode(202)
  @RefreshCacheDocs()
  refresh(@Caller() caller: Principal) {
    return this.cache.refresh(caller);
  }

  @Get('cache/stats')
  @CacheStatsDocs()
  stats(@Caller() caller: Principal) {
    return this.cache.stats(caller);
  }
}

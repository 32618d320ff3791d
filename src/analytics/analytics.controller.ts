import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/auth.types.js';
import { NoCacheHeader } from '../common/no-cache.decorator.js';
import { AggregationsService } from './aggregations.service.js';
import { AggregationsDocs, DashboardDocs, DistributionDocs, PerformanceDocs } from './analytics.docs.js';
import { DashboardService } from './dashboard.service.js';
import { DistributionService } from './distribution.service.js';
import { AggregationsRequestDto } from './dto/aggregations.request.dto.js';
import { PerformanceQueryDto } from './dto/performance.query.dto.js';
import { FilteredRangeQueryDto, RangeQueryDto } from './dto/range.query.dto.js';
import { PerformanceService } from './performance.service.js';

@ApiTags('analytics')
@Controller('analytics')
export class AnalyticsController {
  constructor(
    private readonly aggregations: AggregationsService,
    private readonly dashboard: DashboardService,
    private readonly performance: PerformanceService,
    private readonly distribution: DistributionService,
  ) {}

  @Post('aggregations')
  @HttpCode(200)
  @AggregationsDocs()
  aggregate(@Caller() caller: Principal, @Body() body: AggregationsRequestDto, @NoCacheHeader() noCache: boolean) {
    return this.aggregations.run(caller, body, noCache);
  }

  @Get('dashboard')
  @DashboardDocs()
  getDashboard(@Caller() caller: Principal, @Query() query: RangeQueryDto, @NoCacheHeader() noCache: boolean) {
    return this.dashboard.find(caller, query, noCache);
  }

  @Get('performance')
  @PerformanceDocs()
  getPerformance(@Caller() caller: Principal, @Query() query: PerformanceQueryDto, @NoCacheHeader() noCache: boolean) {
    return this.performance.find(caller, query, noCache);
  }

  @Get('distribution/:field')
  @DistributionDocs()
  getDistribution(
    @Caller() caller: Principal,
    @Param('field') field: string,
    @Query() query: FilteredRangeQueryDto,
    @NoCacheHeader() noCache: boolean,
  ) {
    return this.distribution.find(caller, field, query, noCache);
  }
}

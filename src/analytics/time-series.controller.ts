import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/auth.types.js';
import { NoCacheHeader } from '../common/no-cache.decorator.js';
import { TimeSeriesDocs } from './analytics.docs.js';
import { TimeSeriesQueryDto } from './dto/time-series.query.dto.js';
import { TimeSeriesService } from './time-series.service.js';

@ApiTags('analytics')
@Controller('analytics/time-series')
export class TimeSeriesController {
  constructor(private readonly timeSeries: TimeSeriesService) {}

  @Get(':metric_type')
  @TimeSeriesDocs()
  find(
    @Caller() caller: Principal,
    @Param('metric_type') metricType: string,
    @Query() query: TimeSeriesQueryDto,
    @NoCacheHeader() noCache: boolean,
  ) {
    return this.timeSeries.find(caller, metricType, query, noCache);
  }
}

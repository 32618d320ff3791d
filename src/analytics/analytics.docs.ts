import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiAccess, roleNote } from '../auth/auth.docs.js';
import { ApiCachedResponse } from '../cache/cached-response.docs.js';
import { ApiErrors } from '../common/error-responses.docs.js';
import { DIMENSION_NAMES } from '../metrics/dimensions.js';
import { METRIC_TYPES } from '../metrics/metric-registry.js';
import { AggregationsRequestDto } from './dto/aggregations.request.dto.js';
import { AggregationsResponseDto } from './dto/aggregations.response.dto.js';
import { DashboardResponseDto } from './dto/dashboard.response.dto.js';
import { DistributionResponseDto } from './dto/distribution.response.dto.js';
import { PerformanceResponseDto } from './dto/performance.response.dto.js';
import { TimeSeriesResponseDto } from './dto/time-series.response.dto.js';

const BAD_QUERY =
  'Also: no range where one is required, both period and dates, start_date not before end_date, ' +
  'an unknown timezone, more than 10,000 buckets (code BUCKET_LIMIT_EXCEEDED).';

/** Every analytics read: a viewer's token, cached results, the query errors and the database's 503. */
const AnalyticsRead = (operationId: string, summary: string, description: string) =>
  applyDecorators(
    ApiOperation({ operationId, summary, description: `${roleNote('viewer')} ${description}` }),
    ApiAccess('viewer'),
    ApiErrors([400, 503], { 400: BAD_QUERY }),
  );

export const TimeSeriesDocs = () =>
  applyDecorators(
    AnalyticsRead(
      'getTimeSeries',
      'A metric over time',
      'One data point per bucket that overlaps the range, empty buckets included. A range (or period) is required.',
    ),
    ApiParam({ name: 'metric_type', type: String, enum: METRIC_TYPES, description: 'The metric.' }),
    ApiCachedResponse(TimeSeriesResponseDto, { get: true }),
  );

export const AggregationsDocs = () =>
  applyDecorators(
    AnalyticsRead(
      'runAggregations',
      'Several metrics at once, with breakdowns',
      'Each metric with its summary, its series and its breakdown by the group_by dimensions. ' +
        'A range (or period) is required. Cached like the GETs, but a POST never answers 304.',
    ),
    ApiBody({ type: AggregationsRequestDto }),
    ApiCachedResponse(AggregationsResponseDto, { get: false }),
    ApiErrors([413]),
  );

export const DashboardDocs = () =>
  applyDecorators(
    AnalyticsRead(
      'getDashboard',
      'Dashboard figures over a range',
      'Counts, backlog, mean response and resolution hours, breakdowns, daily trends, and the SLA queue of unanswered tickets (now, whatever the range). Range default: 30d.',
    ),
    ApiCachedResponse(DashboardResponseDto, { get: true }),
  );

export const PerformanceDocs = () =>
  applyDecorators(
    AnalyticsRead(
      'getPerformance',
      'Response and resolution percentiles and SLA compliance',
      'Continuous percentiles (as percentile_cont), in hours; with accuracy=approximate, from sketches within 1% ' +
        'relative error of those. SLA compliance is exact either way. Range default: 30d.',
    ),
    ApiCachedResponse(PerformanceResponseDto, { get: true }),
  );

export const DistributionDocs = () =>
  applyDecorators(
    AnalyticsRead(
      'getDistribution',
      'Tickets created in a range, counted by one dimension',
      'A range (or period) is required.',
    ),
    ApiParam({ name: 'field', type: String, enum: DIMENSION_NAMES, description: 'The dimension to count by.' }),
    ApiCachedResponse(DistributionResponseDto, { get: true }),
  );

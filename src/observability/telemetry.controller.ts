import { Controller, Get, Header } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import { Telemetry } from './telemetry.service.js';

@ApiTags('operations')
@SkipThrottle()
@Controller('metrics')
export class TelemetryController {
  constructor(private readonly telemetry: Telemetry) {}

  @Public()
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    description: 'Public: no token.',
    security: [],
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ schema: { type: 'string' }, description: 'Prometheus text exposition format 0.0.4.' })
  scrape(): Promise<string> {
    return this.telemetry.registry.metrics();
  }
}

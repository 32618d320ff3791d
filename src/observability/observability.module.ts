import { Global, Module } from '@nestjs/common';
import { TelemetryController } from './telemetry.controller.js';
import { Telemetry } from './telemetry.service.js';

@Global()
@Module({ controllers: [TelemetryController], providers: [Telemetry], exports: [Telemetry] })
export class ObservabilityModule {}

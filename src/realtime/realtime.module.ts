import { Module } from '@nestjs/common';
import { AnalyticsModule } from '../analytics/analytics.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { Clock } from '../common/clock.js';
import { AnalyticsGateway } from './analytics.gateway.js';
import { MetricUpdatesService } from './metric-updates.service.js';
import { RealtimeService } from './realtime.service.js';
import { SocketLimits } from './socket-limits.js';
import { SocketNamespace } from './socket-namespace.js';
import { WallboardController } from './wallboard.controller.js';
import { WriteChannels } from './write-channels.js';

/** RateLimiter comes from the global RateLimiterModule: the socket limits count with the HTTP ones. */
@Module({
  imports: [AnalyticsModule, AuthModule],
  controllers: [WallboardController],
  providers: [
    Clock,
    SocketNamespace,
    WriteChannels,
    SocketLimits,
    RealtimeService,
    MetricUpdatesService,
    AnalyticsGateway,
  ],
})
export class RealtimeModule {}

import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { genericPlansAllowed } from '../database/database-options.js';
import { TicketsController } from './tickets.controller.js';
import { PREPARED_WRITES, TicketsRepository } from './tickets.repository.js';
import { TicketsService } from './tickets.service.js';

@Module({
  controllers: [TicketsController],
  providers: [
    TicketsService,
    TicketsRepository,
    // The same condition as the rollups' prepared maintenance (not on Citus, not embedded).
    { provide: PREPARED_WRITES, inject: [AppConfig], useFactory: genericPlansAllowed },
  ],
})
export class TicketsModule {}

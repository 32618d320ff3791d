import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { genericPlansAllowed } from '../database/database-options.js';
import { PREPARED_MAINTENANCE, RollupsListener } from './rollups.listener.js';
import { RollupsRepository } from './rollups.repository.js';
import { SketchesRepository } from './sketches.repository.js';

@Module({
  providers: [
    RollupsListener,
    // The same condition as the analytics pool's prepared statements (ANALYTICS_PREPARED_STATEMENTS, not on Citus).
    { provide: PREPARED_MAINTENANCE, inject: [AppConfig], useFactory: genericPlansAllowed },
    {
      provide: RollupsRepository,
      inject: [getDataSourceToken()],
      useFactory: (db: DataSource) => new RollupsRepository(db),
    },
    {
      provide: SketchesRepository,
      inject: [getDataSourceToken(), AppConfig],
      useFactory: (db: DataSource, config: AppConfig) => new SketchesRepository(db, config.slaFirstResponseHours),
    },
  ],
  exports: [RollupsRepository, SketchesRepository],
})
export class RollupsModule {}

import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { RollupsListener } from './rollups.listener.js';
import { RollupsRepository } from './rollups.repository.js';
import { SketchesRepository } from './sketches.repository.js';

@Module({
  providers: [
    RollupsListener,
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

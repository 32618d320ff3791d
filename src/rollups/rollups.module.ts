import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RollupsListener } from './rollups.listener.js';
import { RollupsRepository } from './rollups.repository.js';

@Module({
  providers: [
    RollupsListener,
    {
      provide: RollupsRepository,
      inject: [getDataSourceToken()],
      useFactory: (db: DataSource) => new RollupsRepository(db),
    },
  ],
  exports: [RollupsRepository],
})
export class RollupsModule {}

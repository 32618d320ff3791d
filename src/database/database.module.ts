import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { ANALYTICS_CONNECTION, buildDataSourceOptions, genericPlansAllowed } from './database-options.js';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ ...buildDataSourceOptions(config), migrationsRun: config.migrationsRun }),
    }),
    TypeOrmModule.forRootAsync({
      name: ANALYTICS_CONNECTION,
      inject: [AppConfig],
      useFactory: async (config: AppConfig) =>
        buildDataSourceOptions(config, 'analytics', { genericPlans: await genericPlansAllowed(config) }),
    }),
  ],
})
export class DatabaseModule {}

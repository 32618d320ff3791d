import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import {
  ANALYTICS_CONNECTION,
  buildDataSourceOptions,
  GENERIC_PLANS_ALLOWED,
  genericPlansAllowed,
} from './database-options.js';

@Global()
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
  // One answer for every user of prepared statements: the analytics pool above, ticket writes, rollups.
  providers: [{ provide: GENERIC_PLANS_ALLOWED, inject: [AppConfig], useFactory: genericPlansAllowed }],
  exports: [GENERIC_PLANS_ALLOWED],
})
export class DatabaseModule {}

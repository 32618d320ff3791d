import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config.js';
import { buildDataSourceOptions } from './database-options.js';

/** For the TypeORM CLI (`npm run migration:run`); the app builds its own. */
export default new DataSource(buildDataSourceOptions(loadConfig()));

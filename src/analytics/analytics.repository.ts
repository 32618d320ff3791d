import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ANALYTICS_CONNECTION } from '../database/database-options.js';
import { compileSeries, type BucketRow, type SeriesQuery } from '../metrics/query-compiler.js';
import type { CompiledQuery } from '../metrics/sql-params.js';

/** Runs compiled analytics SQL on the analytics pool (the one with a statement timeout). */
@Injectable()
export class AnalyticsRepository {
  constructor(@InjectDataSource(ANALYTICS_CONNECTION) private readonly db: DataSource) {}

  series(query: SeriesQuery): Promise<BucketRow[]> {
    return this.run(compileSeries(query));
  }

  run<T>({ text, values }: CompiledQuery): Promise<T[]> {
    return this.db.query(text, values);
  }
}

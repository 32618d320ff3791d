import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ANALYTICS_CONNECTION, GENERIC_PLANS } from '../database/database-options.js';
import type { GroupingName, Priority } from '../metrics/dimensions.js';
import {
  compileBacklog,
  compilePercentiles,
  compileReport,
  type BucketRow,
  type MetricQuery,
  type ReportQuery,
  type ReportRow,
  type SeriesQuery,
} from '../metrics/query-compiler.js';
import { compileQueue, type QueueCutoffs, type QueueRow } from '../metrics/queue.compiler.js';
import { compileSketchReport, type SketchReportRow } from '../metrics/sketch-report.compiler.js';
import type { CompiledQuery } from '../metrics/sql-params.js';
import { Telemetry } from '../observability/telemetry.service.js';
import { AppConfig } from '../config/app-config.js';
import { PreparedStatements } from './prepared-statements.js';

/** Count and value sum of the tickets under one value of a grouping. */
export interface GroupFacts {
  readonly count: number;
  readonly sum: number | null;
}

export interface Report {
  readonly buckets: BucketRow[];
  readonly groups: Partial<Record<GroupingName, Record<string, GroupFacts>>>;
}

/** What runs SQL: the analytics pool itself, or the one connection of a snapshot. */
interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

type PlanCacheMode = 'force_generic_plan' | 'auto';

/** The analytics reads, on whatever runs their SQL. */
export class AnalyticsReader {
  /** The `plan_cache_mode` in force in a snapshot's transaction; null outside one. */
  private mode: PlanCacheMode | null;

  constructor(
    private readonly queryable: Queryable,
    protected readonly telemetry: Telemetry,
    protected readonly statements: PreparedStatements,
    inSnapshot = false,
  ) {
    this.mode = inSnapshot ? 'force_generic_plan' : null;
  }

  async series(query: SeriesQuery): Promise<BucketRow[]> {
    return (await this.report({ ...query, groupBy: [] })).buckets;
  }

  async report(query: ReportQuery): Promise<Report> {
    const rows = await this.run<ReportRow>(compileReport(query));
    const buckets: BucketRow[] = [];
    // Without a prototype: a value is data, and a category named `__proto__` is counted like any other.
    const groups: Report['groups'] = Object.fromEntries(query.groupBy.map((name) => [name, Object.create(null)]));
    for (const { bucket, grouping, value, count, sum } of rows) {
      if (grouping === null) buckets.push({ bucket: bucket!, count, sum });
      else groups[grouping]![value!] = { count, sum };
    }
    return { buckets, groups };
  }

  async percentiles(
    query: MetricQuery,
    fractions: readonly number[],
    targets?: Readonly<Record<Priority, number>>,
  ): Promise<{ count: number; percentiles: number[] | null; within_target?: number | null }> {
    const [row] = await this.run<{ count: number; percentiles: number[] | null; within_target?: number | null }>(
      compilePercentiles(query, fractions, targets),
    );
    return row;
  }

  /** The merged sketch bins of response and resolution hours over a range (src/metrics/sketch-lattice.ts). */
  sketches(
    query: { organizationId: number; start: Date; end: Date },
    targets: Readonly<Record<Priority, number>>,
  ): Promise<SketchReportRow[]> {
    return this.run<SketchReportRow>(compileSketchReport(query, targets));
  }

  async backlog(organizationId: number): Promise<number> {
    const [row] = await this.run<{ count: number }>(compileBacklog(organizationId));
    return row.count;
  }

  /** The organization's unanswered tickets by priority, classified by the cutoffs of one instant. */
  queue(organizationId: number, cutoffs: QueueCutoffs): Promise<QueueRow[]> {
    return this.run<QueueRow>(compileQueue(organizationId, cutoffs));
  }

  async run<T>(query: CompiledQuery): Promise<T[]> {
    const stop = this.telemetry.queryLatency.startTimer();
    try {
      const rows = (await this.execute(query)) as T[];
      stop({ outcome: 'ok' });
      return rows;
    } catch (error) {
      stop({ outcome: 'error' });
      throw error;
    }
  }

  /**
   * A reusable query as a named statement (its generic plan reused, see
   * prepared-statements.ts); any other planned for its values. In a
   * snapshot the transaction's `plan_cache_mode` is switched when the kind
   * of statement changes (a dashboard with no raw fallback never switches).
   */
  protected async execute({ text, values, reusable }: CompiledQuery): Promise<unknown> {
    const name = reusable ? this.statements.nameOf(text) : undefined;
    if (this.mode !== null && this.statements.enabled) {
      const wanted: PlanCacheMode = name ? 'force_generic_plan' : 'auto';
      if (this.mode !== wanted) {
        await this.queryable.query(`SET LOCAL plan_cache_mode = ${wanted}`);
        this.mode = wanted;
      }
    }
    // node-postgres takes a query config ({ name, text }) where TypeORM passes a string through.
    return this.queryable.query(name ? ({ name, text } as unknown as string) : text, values);
  }
}

/**
 * Runs compiled analytics SQL on the analytics pool (the one with a statement
 * timeout). Each read on its own sees the data as of its own statement; reads
 * whose results must agree with each other go through `snapshot`.
 */
@Injectable()
export class AnalyticsRepository extends AnalyticsReader {
  constructor(
    @InjectDataSource(ANALYTICS_CONNECTION) private readonly db: DataSource,
    telemetry: Telemetry,
    config: AppConfig,
  ) {
    // Named statements only where the pool's connections reuse generic plans (database-options.ts).
    super(
      db,
      telemetry,
      new PreparedStatements(
        String((db.options.extra as { options?: string } | undefined)?.options ?? '').includes(GENERIC_PLANS)
          ? config.analyticsPreparedStatements
          : 0,
      ),
    );
  }

  /**
   * Outside a snapshot, a statement that is not prepared runs in a
   * transaction of its own whose `plan_cache_mode` is `auto`, planned for its
   * values as without prepared statements: these are the raw scans, whose
   * best plan depends on the range and filters, and which take far longer
   * than the two statements this adds.
   */
  protected override async execute(query: CompiledQuery): Promise<unknown> {
    if (!this.statements.enabled || (query.reusable && this.statements.nameOf(query.text))) {
      return super.execute(query);
    }
    return this.db.transaction(async (manager) => {
      await manager.query('SET LOCAL plan_cache_mode = auto');
      return manager.query(query.text, query.values);
    });
  }

  /**
   * Runs `work`'s reads in one read-only REPEATABLE READ transaction on one
   * connection of the analytics pool: every read sees the same committed
   * state, whatever commits meanwhile. The reads run one after another (one
   * connection serves one statement at a time), each still under the pool's
   * statement timeout.
   */
  snapshot<T>(work: (reader: AnalyticsReader) => Promise<T>): Promise<T> {
    return this.db.transaction('REPEATABLE READ', async (manager) => {
      await manager.query('SET TRANSACTION READ ONLY');
      return work(new AnalyticsReader(manager, this.telemetry, this.statements, true));
    });
  }
}

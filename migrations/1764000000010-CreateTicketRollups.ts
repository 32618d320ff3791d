import type { MigrationInterface, QueryRunner } from 'typeorm';
import { upsertContributionsSql } from '../src/metrics/rollup-lattice.js';
import { forEachTicketBatch } from './ticket-batches.js';

export class CreateTicketRollups1764000000010 implements MigrationInterface {
  name = 'CreateTicketRollups1764000000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Counts and exact value sums of the tickets per metric, UTC-aligned bin
    // (15 minutes, hour, day) and the groupings of one rollup of the lattice
    // (src/metrics/rollup-lattice.ts); '' stands for a grouping the rollup
    // does not keep. Kept in the transaction of every ticket write.
    await queryRunner.query(`
      CREATE TABLE ticket_rollups (
        organization_id bigint NOT NULL,
        rollup          text NOT NULL,
        metric          text NOT NULL,
        grain           smallint NOT NULL,
        bucket          timestamptz NOT NULL,
        status          text NOT NULL,
        priority        text NOT NULL,
        channel         text NOT NULL,
        category        text NOT NULL,
        sentiment_band  text NOT NULL,
        count           bigint NOT NULL,
        sum             numeric NOT NULL,
        -- Every analytics read: one rollup, metric and grain over a range of bins.
        CONSTRAINT ticket_rollups_pkey PRIMARY KEY
          (organization_id, rollup, metric, grain, bucket, status, priority, channel, category, sentiment_band)
      )`);
    await backfillRollups(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ticket_rollups`);
  }
}

/**
 * Adds the rollups of the tickets already stored (`only`: of those rollups of
 * the lattice alone), organization by organization in batches of at most
 * `batch` consecutive ids, so no statement is huge. It
 * only reads the tickets, so writers are not blocked; the service that
 * maintains the rollups starts after it.
 */
export async function backfillRollups(
  queryRunner: QueryRunner,
  { batch = 50_000, only }: { batch?: number; only?: readonly string[] } = {},
): Promise<void> {
  await forEachTicketBatch(queryRunner, batch, (source, values) =>
    queryRunner.query(upsertContributionsSql(source, { only }), values),
  );
}

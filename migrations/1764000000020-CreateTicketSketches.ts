import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DEFAULT_SLA_TARGETS } from '../src/config/app-config.js';
import {
  coarserSketchesSql,
  FINEST_SKETCH_GRAIN,
  storeTargetsSql,
  upsertSketchesSql,
} from '../src/metrics/sketch-lattice.js';
import { forEachTicketBatch } from './ticket-batches.js';

export class CreateTicketSketches1764000000020 implements MigrationInterface {
  name = 'CreateTicketSketches1764000000020';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The first-response targets an organization's within-target counts were
    // made with; performance answers from raw rows while they differ from
    // SLA_FIRST_RESPONSE_HOURS (until `npm run rollups:rebuild`).
    await queryRunner.query(`
      CREATE TABLE ticket_sla_targets (
        organization_id bigint NOT NULL,
        priority        text NOT NULL,
        hours           double precision NOT NULL,
        -- Read with every approximate performance report and every write.
        CONSTRAINT ticket_sla_targets_pkey PRIMARY KEY (organization_id, priority)
      )`);
    // Log-bin counts of response and resolution hours per organization and
    // UTC-aligned block (src/metrics/sketch-lattice.ts), and how many of the
    // first responses were within target. Kept in every ticket write's transaction.
    await queryRunner.query(`
      CREATE TABLE ticket_sketches (
        organization_id bigint NOT NULL,
        grain           integer NOT NULL,
        bucket          timestamptz NOT NULL,
        metric          text NOT NULL,
        bin             integer NOT NULL,
        count           bigint NOT NULL,
        within_target   bigint NOT NULL,
        -- accuracy=approximate reads: both metrics of one block per index range scan.
        CONSTRAINT ticket_sketches_pkey PRIMARY KEY (organization_id, grain, bucket, metric, bin)
      )`);
    await backfillSketches(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ticket_sketches`);
    await queryRunner.query(`DROP TABLE ticket_sla_targets`);
  }
}

/**
 * Adds the sketches of the tickets already stored, organization by
 * organization: the hourly blocks in batches of at most `batch` consecutive
 * ids, then the coarser blocks from them (`coarserSketchesSql`); counted within
 * the default targets (the migration does not read the service's settings).
 * It only reads the tickets.
 */
export async function backfillSketches(queryRunner: QueryRunner, batch = 50_000): Promise<void> {
  await forEachTicketBatch(
    queryRunner,
    batch,
    (source, values) => queryRunner.query(upsertSketchesSql(source, FINEST_SKETCH_GRAIN), values),
    {
      before: async (organizationId) => {
        await queryRunner.query(storeTargetsSql(organizationId, DEFAULT_SLA_TARGETS));
      },
      after: async (organizationId) => {
        for (const statement of coarserSketchesSql()) await queryRunner.query(statement, [organizationId]);
      },
    },
  );
}

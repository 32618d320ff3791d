import type { MigrationInterface, QueryRunner } from 'typeorm';
import { backfillRollups } from './1764000000010-CreateTicketRollups.js';

export class AddPriorityRollup1764000000050 implements MigrationInterface {
  name = 'AddPriorityRollup1764000000050';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The lattice gained `priority` (ticket_count by priority in hours and
    // days: the dashboard's priority breakdown read up to a day of raw tickets
    // at each end of its range). Its rows for the tickets already stored,
    // made anew (a database that got its rollups from the first backfill,
    // which makes the lattice of the code, has them already). Like that
    // backfill it only reads the tickets; tickets written by an older version
    // of the service meanwhile need `npm run rollups:rebuild`.
    await queryRunner.query(`DELETE FROM ticket_rollups WHERE rollup = 'priority'`);
    await backfillRollups(queryRunner, { only: ['priority'] });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM ticket_rollups WHERE rollup = 'priority'`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DropTicketsBacklogIndex1764000000040 implements MigrationInterface {
  name = 'DropTicketsBacklogIndex1764000000040';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The dashboard's backlog is read from the daily status rollup now
    // (compileBacklog): the partial index of open tickets only cost writes.
    await queryRunner.query(`DROP INDEX IF EXISTS tickets_org_backlog_idx`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX tickets_org_backlog_idx ON tickets (organization_id)
       WHERE status IN ('open', 'in_progress', 'pending')`,
    );
  }
}

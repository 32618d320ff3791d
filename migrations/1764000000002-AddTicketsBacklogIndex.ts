import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddTicketsBacklogIndex1764000000002 implements MigrationInterface {
  name = 'AddTicketsBacklogIndex1764000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The dashboard's current_backlog: an organization's open tickets, whenever created.
    await queryRunner.query(
      `CREATE INDEX tickets_org_backlog_idx ON tickets (organization_id)
       WHERE status IN ('open', 'in_progress', 'pending')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX tickets_org_backlog_idx`);
  }
}

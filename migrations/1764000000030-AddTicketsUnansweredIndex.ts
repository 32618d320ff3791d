import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddTicketsUnansweredIndex1764000000030 implements MigrationInterface {
  name = 'AddTicketsUnansweredIndex1764000000030';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The dashboard's queue: an organization's unanswered open tickets by
    // priority and age, read from the index alone (every column the queue
    // reads is a key or implied by the predicate).
    await queryRunner.query(
      `CREATE INDEX tickets_org_unanswered_idx ON tickets (organization_id, priority, created_at)
       WHERE first_response_at IS NULL AND status IN ('open', 'in_progress', 'pending')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX tickets_org_unanswered_idx`);
  }
}

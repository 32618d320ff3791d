import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTickets1764000000000 implements MigrationInterface {
  name = 'CreateTickets1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Millisecond timestamps: what the API accepts is exactly what it returns.
    await queryRunner.query(`
      CREATE TABLE tickets (
        organization_id   bigint NOT NULL CHECK (organization_id > 0),
        id                uuid NOT NULL DEFAULT gen_random_uuid(),
        external_id       varchar(128) CHECK (char_length(external_id) >= 1),
        status            varchar(16) NOT NULL DEFAULT 'open'
                          CHECK (status IN ('open', 'in_progress', 'pending', 'resolved', 'closed')),
        priority          varchar(16) NOT NULL DEFAULT 'medium'
                          CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
        channel           varchar(64) NOT NULL DEFAULT 'web' CHECK (channel ~ '^[a-z0-9_-]{1,64}$'),
        category          varchar(64) NOT NULL DEFAULT 'general' CHECK (category ~ '^[a-z0-9_-]{1,64}$'),
        assignee_id       varchar(128) CHECK (char_length(assignee_id) >= 1 AND assignee_id <> 'unassigned'),
        sentiment_score   double precision CHECK (sentiment_score BETWEEN -1 AND 1),
        created_at        timestamptz(3) NOT NULL,
        first_response_at timestamptz(3) CHECK (first_response_at >= created_at),
        resolved_at       timestamptz(3) CHECK (resolved_at >= created_at),
        updated_at        timestamptz(3) NOT NULL,
        CONSTRAINT tickets_pkey PRIMARY KEY (organization_id, id),
        CONSTRAINT tickets_resolved_iff_closed
          CHECK ((status IN ('resolved', 'closed')) = (resolved_at IS NOT NULL))
      )`);
    // Duplicate detection on create and bulk upsert by external_id.
    await queryRunner.query(
      `CREATE UNIQUE INDEX tickets_org_external_id_key ON tickets (organization_id, external_id)`,
    );
    // ticket_count and sentiment_score buckets and ranges; the newest-first
    // cursor list (scanned backwards, ties broken by id).
    await queryRunner.query(`CREATE INDEX tickets_org_created_at_idx ON tickets (organization_id, created_at, id)`);
    // response_time buckets and ranges.
    await queryRunner.query(
      `CREATE INDEX tickets_org_first_response_at_idx ON tickets (organization_id, first_response_at)
       WHERE first_response_at IS NOT NULL`,
    );
    // resolution_time buckets and ranges.
    await queryRunner.query(
      `CREATE INDEX tickets_org_resolved_at_idx ON tickets (organization_id, resolved_at)
       WHERE resolved_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE tickets`);
  }
}

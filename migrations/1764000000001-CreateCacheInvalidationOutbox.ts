import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateCacheInvalidationOutbox1764000000001 implements MigrationInterface {
  name = 'CreateCacheInvalidationOutbox1764000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Cache generation bumps that could not reach Redis when a write committed.
    // Every instance replays them once Redis answers again, before it serves
    // another cached result (see src/cache/README.md).
    await queryRunner.query(`
      CREATE TABLE cache_invalidation_outbox (
        organization_id bigint NOT NULL,
        id              bigint GENERATED ALWAYS AS IDENTITY,
        scopes          text[] NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT cache_invalidation_outbox_pkey PRIMARY KEY (organization_id, id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE cache_invalidation_outbox`);
  }
}

import type { QueryRunner } from 'typeorm';

/**
 * What a backfill reads: every organization's tickets in batches of at most
 * `batch` consecutive ids, so no statement is huge. `write` gets the SQL of
 * one batch's tickets with a `sign` of 1 (see rollup-lattice.ts) and its
 * bound values; `perOrganization` runs before (`before`) and after (`after`)
 * an organization's batches. It only reads the tickets, so writers are not
 * blocked.
 */
export async function forEachTicketBatch(
  queryRunner: QueryRunner,
  batch: number,
  write: (source: string, values: unknown[]) => Promise<unknown>,
  perOrganization: { before?: (id: number) => Promise<void>; after?: (id: number) => Promise<void> } = {},
): Promise<void> {
  const organizations: { organization_id: number }[] = await queryRunner.query(
    `SELECT DISTINCT organization_id FROM tickets ORDER BY 1`,
  );
  for (const { organization_id } of organizations) {
    await perOrganization.before?.(organization_id);
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const [last]: { id: string | null }[] = await queryRunner.query(
        `SELECT (SELECT id FROM (
           SELECT id FROM tickets WHERE organization_id = $1 AND id > $2 ORDER BY id LIMIT ${batch}) batch
         ORDER BY id DESC LIMIT 1)::text AS id`,
        [organization_id, after],
      );
      if (last.id === null) break;
      await write(
        `(SELECT tk.*, 1 AS sign FROM tickets tk WHERE tk.organization_id = $1 AND tk.id > $2 AND tk.id <= $3)`,
        [organization_id, after, last.id],
      );
      after = last.id;
    }
    await perOrganization.after?.(organization_id);
  }
}

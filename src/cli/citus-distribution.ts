/**
 * Distributes Pulse's tables over a Citus cluster by organization, so that
 * every statement of one organization runs on one shard (README "Scaling
 * out"). Idempotent: tables already distributed are left as they are, so it
 * runs again after each migration that adds a table.
 */
import pg from 'pg';

/** What the distribution needs of a connection; a `pg.Client` is one. */
export interface Queryable {
  query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export const DISTRIBUTION_COLUMN = 'organization_id';
/** Every other table is co-located with it: one organization's rows of every table share a node. */
export const ANCHOR_TABLE = 'tickets';
/**
 * TypeORM's list of applied migrations. Only the migration runner reads it,
 * on the coordinator, and no statement joins it with the tickets: it stays a
 * local table of the coordinator (a reference table would copy it to every
 * worker for nothing).
 */
export const MIGRATIONS_TABLE = 'migrations';

export interface DistributionReport {
  readonly citusVersion: string;
  readonly workers: number;
  /** Distributed by this run. */
  readonly distributed: string[];
  /** Distributed by organization_id with the tickets before this run. */
  readonly alreadyDistributed: string[];
  /** Tables of the public schema without an organization_id column, left on the coordinator. */
  readonly leftLocal: string[];
}

export class DistributionError extends Error {}

/**
 * Distributes every table of the public schema that has an organization_id
 * column (the migrations table excepted) by that column, co-located with the
 * tickets. Null when the database has no citus extension: there is nothing to
 * distribute over.
 */
export async function distributeByOrganization(
  db: Queryable,
  log: (line: string) => void = () => undefined,
): Promise<DistributionReport | null> {
  const citusVersion = await citusVersionOf(db);
  if (citusVersion === null) return null;
  const tables = await publicTables(db);
  const candidates = tables.filter((t) => t.hasOrganizationId && t.name !== MIGRATIONS_TABLE).map((t) => t.name);
  if (!candidates.includes(ANCHOR_TABLE)) {
    throw new DistributionError(`no ${ANCHOR_TABLE} table with ${DISTRIBUTION_COLUMN}: run the migrations first`);
  }
  const current = await citusTables(db);
  const distributed: string[] = [];
  const alreadyDistributed: string[] = [];
  // The tickets first: the others name them as their co-location.
  for (const name of [ANCHOR_TABLE, ...candidates.filter((n) => n !== ANCHOR_TABLE).sort()]) {
    const existing = current.get(name);
    if (existing) {
      checkPlacement(name, existing, current.get(ANCHOR_TABLE));
      alreadyDistributed.push(name);
      continue;
    }
    await distributeTable(db, name, log);
    current.set(name, (await citusTables(db)).get(name)!);
    distributed.push(name);
  }
  const [{ workers }] = (
    await db.query<{ workers: number }>(
      `SELECT count(*)::int AS workers FROM pg_dist_node WHERE noderole = 'primary' AND groupid <> 0 AND isactive`,
    )
  ).rows;
  const leftLocal = tables.filter((t) => !candidates.includes(t.name)).map((t) => t.name);
  return { citusVersion, workers, distributed, alreadyDistributed, leftLocal };
}

/** The installed Citus extension's version, or null on plain PostgreSQL. */
export async function citusVersionOf(db: Queryable): Promise<string | null> {
  const { rows } = await db.query<{ extversion: string }>(
    `SELECT extversion FROM pg_extension WHERE extname = 'citus'`,
  );
  return rows[0]?.extversion ?? null;
}

interface PublicTable {
  readonly name: string;
  readonly hasOrganizationId: boolean;
}

/** The ordinary tables of the public schema (partitions are distributed with their parent). */
async function publicTables(db: Queryable): Promise<PublicTable[]> {
  const { rows } = await db.query<{ name: string; has_organization_id: boolean }>(
    `SELECT c.relname AS name,
            EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attname = $1 AND a.attnum > 0 AND NOT a.attisdropped)
              AS has_organization_id
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY c.relname`,
    [DISTRIBUTION_COLUMN],
  );
  return rows.map((r) => ({ name: r.name, hasOrganizationId: r.has_organization_id }));
}

interface CitusTable {
  readonly type: string;
  readonly column: string | null;
  readonly colocationId: number;
}

/** The tables Citus already manages in the public schema, by name. */
async function citusTables(db: Queryable): Promise<Map<string, CitusTable>> {
  const { rows } = await db.query<{ name: string; type: string; column: string | null; colocation_id: number }>(
    `SELECT c.relname AS name, t.citus_table_type AS type, t.distribution_column AS column,
            t.colocation_id
     FROM citus_tables t JOIN pg_class c ON c.oid = t.table_name
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public'`,
  );
  return new Map(rows.map((r) => [r.name, { type: r.type, column: r.column, colocationId: r.colocation_id }]));
}

/** A table Citus already holds must be where this distribution would have put it. */
function checkPlacement(name: string, table: CitusTable, anchor: CitusTable | undefined): void {
  const byOrganization = table.type === 'distributed' && table.column === DISTRIBUTION_COLUMN;
  if (!byOrganization || (anchor && table.colocationId !== anchor.colocationId)) {
    throw new DistributionError(
      `${name} is already a ${table.type} table (distribution column ${table.column ?? 'none'}, ` +
        `co-location ${table.colocationId}), not distributed by ${DISTRIBUTION_COLUMN} with ${ANCHOR_TABLE}: ` +
        `undo it (undistribute_table) and run again`,
    );
  }
}

/**
 * Hash-distributes one table by organization, co-located with the tickets.
 * Rows it already holds are copied into the shards by Citus; the copy left in
 * the coordinator's own table is then truncated, as Citus asks.
 */
async function distributeTable(db: Queryable, name: string, log: (line: string) => void): Promise<void> {
  const { rows } = await db.query<{ has_rows: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ONLY public.${pg.escapeIdentifier(name)}) AS has_rows`,
  );
  const colocateWith = name === ANCHOR_TABLE ? 'default' : ANCHOR_TABLE;
  log(
    `distributing ${name} by ${DISTRIBUTION_COLUMN}${name === ANCHOR_TABLE ? '' : `, co-located with ${ANCHOR_TABLE}`}`,
  );
  await db.query(`SELECT create_distributed_table($1::regclass, $2, colocate_with => $3)`, [
    `public.${pg.escapeIdentifier(name)}`,
    DISTRIBUTION_COLUMN,
    colocateWith,
  ]);
  if (rows[0].has_rows) {
    await db.query(`SELECT truncate_local_data_after_distributing_table($1::regclass)`, [
      `public.${pg.escapeIdentifier(name)}`,
    ]);
  }
}

import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { databaseErrorCode, uniqueViolationConstraint } from './database-errors.js';

/**
 * The errors as node-postgres gave them: PostgreSQL 15 on its own, and a
 * Citus 13.2.2 coordinator (two workers) relaying its workers' errors, taken
 * from a run against both (every field the driver set, values as received).
 */
function received(message: string, fields: Record<string, string>): pg.DatabaseError {
  return Object.assign(new pg.DatabaseError(message, 0, 'error'), { severity: 'ERROR', ...fields });
}

const PLAIN = received('duplicate key value violates unique constraint "tickets_org_external_id_key"', {
  code: '23505',
  detail: 'Key (organization_id, external_id)=(900903, x1) already exists.',
  schema: 'public',
  table: 'tickets',
  constraint: 'tickets_org_external_id_key',
  file: 'nbtinsert.c',
  line: '664',
  routine: '_bt_check_unique',
});

// An UPDATE routed to one shard: the worker's error passed on by ReportResultError, without schema, table or constraint.
const CITUS_ROUTED = received('duplicate key value violates unique constraint "tickets_org_external_id_key_102025"', {
  code: '23505',
  detail: 'Key (organization_id, external_id)=(900903, x1) already exists.',
  where: 'while executing command on 127.0.0.1:5442',
  file: 'remote_commands.c',
  line: '319',
  routine: 'ReportResultError',
});

// INSERT … SELECT FROM unnest(...): the coordinator copies the rows into the shard; the code is lost (XX000).
const CITUS_COPIED = received('duplicate key value violates unique constraint "tickets_org_external_id_key_102025"', {
  code: 'XX000',
  detail: 'Key (organization_id, external_id)=(900903, x3) already exists.',
  file: 'multi_copy.c',
  line: '1179',
  routine: 'ReportCopyError',
});

// The same path for a check constraint: also XX000 from ReportCopyError, and not a conflict.
const CITUS_COPIED_CHECK = received(
  'new row for relation "tickets_102025" violates check constraint "tickets_status_check"',
  {
    code: 'XX000',
    detail: 'Failing row contains (900009, 3673c411-1bda-41a7-a79b-f36c7913ae6f, y, bogus, low, email, general, …).',
    file: 'multi_copy.c',
    line: '1179',
    routine: 'ReportCopyError',
  },
);

const wrapped = (error: Error) => new QueryFailedError('INSERT …', [], error);

describe('uniqueViolationConstraint', () => {
  it('takes the constraint field of PostgreSQL’s own error, bare or wrapped by TypeORM', () => {
    expect(uniqueViolationConstraint(PLAIN)).toBe('tickets_org_external_id_key');
    expect(uniqueViolationConstraint(wrapped(PLAIN))).toBe('tickets_org_external_id_key');
  });

  it('trusts the constraint field over the message', () => {
    const other = received('duplicate key value violates unique constraint "tickets_org_external_id_key"', {
      code: '23505',
      constraint: 'tickets_pkey',
    });
    expect(uniqueViolationConstraint(other)).toBe('tickets_pkey');
  });

  it('reads the shard’s index from the message of a Citus coordinator, which drops the constraint field', () => {
    expect(uniqueViolationConstraint(CITUS_ROUTED)).toBe('tickets_org_external_id_key_102025');
    expect(uniqueViolationConstraint(wrapped(CITUS_ROUTED))).toBe('tickets_org_external_id_key_102025');
  });

  it('recognises a violation met while Citus copies computed rows into a shard, though its code is XX000', () => {
    expect(uniqueViolationConstraint(CITUS_COPIED)).toBe('tickets_org_external_id_key_102025');
    expect(uniqueViolationConstraint(wrapped(CITUS_COPIED))).toBe('tickets_org_external_id_key_102025');
  });

  it('takes no other error for one', () => {
    expect(uniqueViolationConstraint(CITUS_COPIED_CHECK)).toBeNull();
    // The text of a unique violation with another code or from another routine is not one.
    const internal = received(CITUS_COPIED.message, { code: 'XX000', routine: 'elog_finish' });
    expect(uniqueViolationConstraint(internal)).toBeNull();
    expect(uniqueViolationConstraint(received(PLAIN.message, { code: '23503' }))).toBeNull();
    expect(uniqueViolationConstraint(new Error(PLAIN.message))).toBeNull();
    expect(uniqueViolationConstraint(received('duplicate key value', { code: '23505' }))).toBeNull();
    for (const value of [null, undefined, 'duplicate key', 23505]) expect(uniqueViolationConstraint(value)).toBeNull();
  });

  it('leaves the HTTP mapping of database faults as it was: a conflict is not a fault of the database', () => {
    for (const error of [PLAIN, CITUS_ROUTED, CITUS_COPIED]) expect(databaseErrorCode(error)).toBeNull();
    expect(databaseErrorCode(wrapped(received('canceling statement', { code: '57014' })))).toMatchObject({
      code: 'QUERY_TIMEOUT',
    });
  });
});

import { invalid } from '../common/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An opaque page cursor: the sort key of the last ticket of the page. */
export function encodeCursor(last: { created_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify([last.created_at.toISOString(), last.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { created_at: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const created_at = new Date(String(createdAt));
    const year = created_at.getUTCFullYear();
    if (
      typeof createdAt === 'string' &&
      !Number.isNaN(created_at.getTime()) &&
      // Within what PostgreSQL stores and Pulse accepts; anything else was never returned.
      year >= 1 &&
      year <= 9999 &&
      typeof id === 'string' &&
      UUID.test(id)
    ) {
      return { created_at, id };
    }
  } catch {
    // fall through to the 400
  }
  throw invalid('cursor is not a cursor returned by a previous page');
}

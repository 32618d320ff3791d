import { CreateTickets1764000000000 } from './1764000000000-CreateTickets.js';
import { CreateCacheInvalidationOutbox1764000000001 } from './1764000000001-CreateCacheInvalidationOutbox.js';

/** Every migration, in order; the data source loads this list rather than a glob. */
export const MIGRATIONS = [CreateTickets1764000000000, CreateCacheInvalidationOutbox1764000000001];

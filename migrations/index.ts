import { CreateTickets1764000000000 } from './1764000000000-CreateTickets.js';
import { CreateCacheInvalidationOutbox1764000000001 } from './1764000000001-CreateCacheInvalidationOutbox.js';
import { AddTicketsBacklogIndex1764000000002 } from './1764000000002-AddTicketsBacklogIndex.js';
import { CreateTicketRollups1764000000010 } from './1764000000010-CreateTicketRollups.js';
import { CreateTicketSketches1764000000020 } from './1764000000020-CreateTicketSketches.js';
import { AddTicketsUnansweredIndex1764000000030 } from './1764000000030-AddTicketsUnansweredIndex.js';
import { DropTicketsBacklogIndex1764000000040 } from './1764000000040-DropTicketsBacklogIndex.js';
import { AddPriorityRollup1764000000050 } from './1764000000050-AddPriorityRollup.js';

/** Every migration, in order; the data source loads this list rather than a glob. */
export const MIGRATIONS = [
  CreateTickets1764000000000,
  CreateCacheInvalidationOutbox1764000000001,
  AddTicketsBacklogIndex1764000000002,
  CreateTicketRollups1764000000010,
  CreateTicketSketches1764000000020,
  AddTicketsUnansweredIndex1764000000030,
  DropTicketsBacklogIndex1764000000040,
  AddPriorityRollup1764000000050,
];

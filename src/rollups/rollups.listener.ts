import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TICKETS_WRITING, TicketsWritingEvent } from '../tickets/events/tickets-writing.event.js';
import { RollupsRepository } from './rollups.repository.js';

/**
 * Keeps the rollups in the transaction of every ticket write: they commit
 * with the tickets, or roll back with them (a failure here fails the write).
 * So a read after a write sees it in the rollups too, with no refresh job.
 */
@Injectable()
export class RollupsListener {
  constructor(private readonly rollups: RollupsRepository) {}

  @OnEvent(TICKETS_WRITING, { suppressErrors: false })
  async onTicketsWriting(event: TicketsWritingEvent): Promise<void> {
    await this.rollups.apply(event.manager, event.organizationId, event.changesTable);
  }
}

import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TICKETS_WRITING, TicketsWritingEvent } from '../tickets/events/tickets-writing.event.js';
import { RollupsRepository } from './rollups.repository.js';
import { SketchesRepository } from './sketches.repository.js';

/**
 * Keeps the rollups and sketches in the transaction of every ticket write:
 * they commit with the tickets, or roll back with them (a failure here fails
 * the write). So a read after a write sees it there too, with no refresh job.
 * One after the other, always in this order: concurrent writers lock the
 * rows of both tables in the same order.
 */
@Injectable()
export class RollupsListener {
  constructor(
    private readonly rollups: RollupsRepository,
    private readonly sketches: SketchesRepository,
  ) {}

  @OnEvent(TICKETS_WRITING, { suppressErrors: false })
  async onTicketsWriting(event: TicketsWritingEvent): Promise<void> {
    await this.rollups.apply(event.manager, event.organizationId, event.changesTable);
    await this.sketches.apply(event.manager, event.organizationId, event.changesTable);
  }
}

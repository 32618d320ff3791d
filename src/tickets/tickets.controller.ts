import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Caller, RequireRole } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/auth.types.js';
import { DomainError } from '../common/errors.js';
import { BulkTicketsDto } from './dto/bulk-tickets.dto.js';
import { CreateTicketDto } from './dto/create-ticket.dto.js';
import { ListTicketsQueryDto } from './dto/list-tickets.query.dto.js';
import { UpdateTicketDto } from './dto/update-ticket.dto.js';
import { BulkTicketsDocs, CreateTicketDocs, GetTicketDocs, ListTicketsDocs, UpdateTicketDocs } from './tickets.docs.js';
import { TicketsService } from './tickets.service.js';

/** An id that is not a UUID cannot name a ticket: 404, as for any unknown ticket. */
const TicketId = () => new ParseUUIDPipe({ exceptionFactory: () => new DomainError('NOT_FOUND', 'ticket not found') });

@ApiTags('tickets')
@Controller('tickets')
export class TicketsController {
  constructor(private readonly tickets: TicketsService) {}

  @Post()
  @RequireRole('agent')
  @CreateTicketDocs()
  create(@Caller() caller: Principal, @Body() body: CreateTicketDto) {
    return this.tickets.create(caller.organizationId, body);
  }

  @Post('bulk')
  @HttpCode(200)
  @RequireRole('agent')
  @BulkTicketsDocs()
  bulk(@Caller() caller: Principal, @Body() body: BulkTicketsDto) {
    return this.tickets.bulk(caller.organizationId, body);
  }

  @Patch(':id')
  @RequireRole('agent')
  @UpdateTicketDocs()
  update(@Caller() caller: Principal, @Param('id', TicketId()) id: string, @Body() body: UpdateTicketDto) {
    return this.tickets.update(caller.organizationId, id, body);
  }

  @Get(':id')
  @GetTicketDocs()
  get(@Caller() caller: Principal, @Param('id', TicketId()) id: string) {
    return this.tickets.get(caller.organizationId, id);
  }

  @Get()
  @ListTicketsDocs()
  list(@Caller() caller: Principal, @Query() query: ListTicketsQueryDto) {
    return this.tickets.list(caller.organizationId, query);
  }
}

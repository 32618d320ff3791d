import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiAccess, roleNote } from '../auth/auth.docs.js';
import { ApiErrors } from '../common/error-responses.docs.js';
import { BulkTicketsDto } from './dto/bulk-tickets.dto.js';
import { CreateTicketDto } from './dto/create-ticket.dto.js';
import { BulkTicketsResponseDto, TicketPageResponseDto, TicketResponseDto } from './dto/ticket.response.dto.js';
import { UpdateTicketDto } from './dto/update-ticket.dto.js';

const TicketIdParam = () =>
  ApiParam({
    name: 'id',
    type: String,
    format: 'uuid',
    description: 'The ticket id. One that is not a UUID is answered 404.',
  });

const DUPLICATE = 'DUPLICATE_EXTERNAL_ID: another ticket has the external_id; `existing_id` names it.';

export const CreateTicketDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'createTicket',
      summary: 'Create a ticket',
      description: `${roleNote('agent')} Fields left out take their defaults.`,
    }),
    ApiAccess('agent'),
    ApiBody({ type: CreateTicketDto }),
    ApiCreatedResponse({ type: TicketResponseDto, description: 'The created ticket.' }),
    ApiErrors([400, 409, 413, 503], { 409: DUPLICATE }),
  );

export const BulkTicketsDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'bulkUpsertTickets',
      summary: 'Create or update up to 10,000 tickets at once',
      description:
        `${roleNote('agent')} An item whose external_id exists updates that ticket as PATCH would; the others ` +
        'are created. All or nothing: an invalid item, or two items with one external_id, refuse the whole batch.',
    }),
    ApiAccess('agent'),
    ApiBody({ type: BulkTicketsDto }),
    ApiOkResponse({ type: BulkTicketsResponseDto, description: 'How many tickets were created and updated.' }),
    ApiErrors([400, 409, 413, 503], {
      400: 'The messages name the items by index (`tickets.3.status ...`); nothing is written.',
      409: 'CONFLICT: concurrent writes of the same external_id kept failing; retry the batch.',
    }),
  );

export const UpdateTicketDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'updateTicket',
      summary: 'Update a ticket',
      description: `${roleNote('agent')} The fields given replace the stored ones; the others keep their values.`,
    }),
    ApiAccess('agent'),
    TicketIdParam(),
    ApiBody({ type: UpdateTicketDto }),
    ApiOkResponse({ type: TicketResponseDto, description: 'The updated ticket.' }),
    ApiErrors([400, 404, 409, 413, 503], { 409: DUPLICATE }),
  );

export const GetTicketDocs = () =>
  applyDecorators(
    ApiOperation({ operationId: 'getTicket', summary: 'Get a ticket', description: roleNote('viewer') }),
    ApiAccess('viewer'),
    TicketIdParam(),
    ApiOkResponse({ type: TicketResponseDto, description: 'The ticket.' }),
    ApiErrors([400, 404, 503]),
  );

export const ListTicketsDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'listTickets',
      summary: 'List tickets, newest first',
      description: `${roleNote('viewer')} Pages by cursor; filters are repeated query parameters.`,
    }),
    ApiAccess('viewer'),
    ApiOkResponse({ type: TicketPageResponseDto, description: 'One page.' }),
    ApiErrors([400, 503]),
  );

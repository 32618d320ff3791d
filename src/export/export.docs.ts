import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, getSchemaPath } from '@nestjs/swagger';
import { ApiAccess, roleNote } from '../auth/auth.docs.js';
import { ApiErrors } from '../common/error-responses.docs.js';
import { TICKET_ROW_COLUMNS } from '../metrics/ticket-rows.compiler.js';
import { ExportRequestDto } from './dto/export.request.dto.js';
import { CONTENT_TYPES } from './export-request.js';
import { ExportJsonResponseDto } from './dto/export.response.dto.js';

export const ExportDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'exportAnalytics',
      summary: 'Series and raw tickets as a csv, json or xlsx file',
      description:
        `${roleNote('viewer')} Always computed fresh, never cached. Each metric's series is the time-series ` +
        "endpoint's data_points for the same query. With include_raw_data the file also holds the tickets " +
        `created in the range that match the filters (${TICKET_ROW_COLUMNS.join(', ')}), oldest first; a raw ` +
        'csv holds only the tickets. Raw rows stream: once the first bytes are sent, a failure can only abort ' +
        "the response. In csv and xlsx, text starting with =, +, -, @, a tab or a carriage return gets a leading `'`.",
    }),
    ApiAccess('viewer'),
    ApiBody({ type: ExportRequestDto }),
    ApiExtraModels(ExportJsonResponseDto),
    ApiOkResponse({
      description: 'The file, as an attachment.',
      headers: {
        'Content-Disposition': {
          description:
            'attachment; filename="pulse_<org>_<start>_<end>.<ext>", the range ends in UTC as YYYYMMDDTHHMMSSZ.',
          schema: { type: 'string' },
        },
      },
      content: {
        'text/csv': {
          schema: {
            type: 'string',
            description: `Header metric_type,timestamp,value,count; with include_raw_data, ${TICKET_ROW_COLUMNS.join(',')}.`,
          },
        },
        'application/json': { schema: { $ref: getSchemaPath(ExportJsonResponseDto) } },
        [CONTENT_TYPES.xlsx]: {
          schema: {
            type: 'string',
            format: 'binary',
            description: 'One sheet per metric (timestamp, value, count), and a sheet tickets with include_raw_data.',
          },
        },
      },
    }),
    ApiErrors([400, 413, 503], {
      400:
        'Also: an unknown format (csv, json, xlsx, excel), a filter key that is not a dimension, no range, ' +
        'more than 10,000 buckets (code BUCKET_LIMIT_EXCEEDED), or include_raw_data over more tickets than ' +
        'EXPORT_MAX_ROWS (or the 1,048,575 rows of an xlsx sheet).',
    }),
  );

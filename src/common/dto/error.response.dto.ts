import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';

/** The body of every error response (documentation only; HttpExceptionFilter builds it). */
@ApiSchema({ name: 'Error', description: 'Every error response, whatever its status.' })
export class ErrorResponseDto {
  @ApiProperty({ type: 'integer', example: 400, description: 'The HTTP status, repeated.' })
  statusCode: number;

  @ApiProperty({ type: String, example: 'Bad Request', description: 'The status text.' })
  error: string;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['limit must not be greater than 500'],
    description: 'What is wrong: one message, or one per offending parameter, each naming it.',
  })
  message: string | string[];

  @ApiProperty({
    type: String,
    enum: Object.keys(ERROR_STATUS),
    example: 'VALIDATION_FAILED',
    description: 'Stable, machine-readable code.',
  })
  code: ErrorCode;

  @ApiProperty({
    type: String,
    example: '0b6f3c1e-6a4e-4f57-9a43-5f1f0d0d2b8e',
    description: 'The id under which the request was logged; also sent as the X-Request-Id header.',
  })
  request_id: string;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Only with code DUPLICATE_EXTERNAL_ID: the id of the ticket that already has the external_id.',
  })
  existing_id?: string | null;
}

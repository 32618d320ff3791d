import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { Caller } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/auth.types.js';
import { ExportEndpoint } from '../rate-limit/rate-limit.decorators.js';
import { ExportRequestDto } from './dto/export.request.dto.js';
import { ExportDocs } from './export.docs.js';
import { ExportService } from './export.service.js';

@ApiTags('analytics')
@Controller('analytics')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  /**
   * A web Response: Nest sends its headers with the first chunk of the body,
   * so a failure before that is still a JSON error, and then pipes the rest
   * with backpressure, cancelling the body if the client goes away.
   */
  @Post('export')
  @ExportEndpoint()
  @HttpCode(200)
  @ExportDocs()
  async export(@Caller() caller: Principal, @Body() body: ExportRequestDto): Promise<Response> {
    const file = await this.exports.export(caller, body);
    return new Response(Readable.toWeb(file.body) as ReadableStream<Uint8Array>, {
      headers: {
        'content-type': file.contentType,
        'content-disposition': `attachment; filename="${file.filename}"`,
        'cache-control': 'no-store',
      },
    });
  }
}

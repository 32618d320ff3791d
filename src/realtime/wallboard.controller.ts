import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { Public } from '../auth/auth.decorators.js';
import { notFound } from '../common/errors.js';
import { WallboardQueryDto } from './dto/wallboard.query.dto.js';

/** Read once at start-up: the page and its assets ship with the service (copied into dist by nest build). */
const read = (file: string) => readFileSync(new URL(`./wallboard/${file}`, import.meta.url), 'utf8');
const PAGE = read('index.html');
/** The assets by name; a Map, so a name like `constructor` finds nothing. */
const ASSETS: ReadonlyMap<string, { type: string; text: string }> = new Map(
  [
    ['wallboard.js', 'text/javascript; charset=utf-8'],
    ['wallboard.css', 'text/css; charset=utf-8'],
    ['favicon.svg', 'image/svg+xml'],
  ].map(([file, type]) => [file, { type, text: read(file) }]),
);

/** The live wallboard (API.md §6): a static page on the `/analytics` socket; it asks for a token if the URL has none. */
@Public()
@ApiTags('operations')
@Controller('wallboard')
export class WallboardController {
  @Get()
  @ApiOperation({
    operationId: 'getWallboard',
    summary: 'The live wallboard page',
    description:
      'Public: no token for the page itself; the page connects to the /analytics socket with the token it is given.',
    security: [],
  })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The HTML page.', schema: { type: 'string' } })
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page(@Query() _query: WallboardQueryDto): string {
    return PAGE;
  }

  @Get(':asset')
  @ApiExcludeEndpoint()
  asset(@Param('asset') asset: string): Response {
    const found = ASSETS.get(asset);
    if (!found) throw notFound('asset');
    return new Response(found.text, { headers: { 'content-type': found.type, 'cache-control': 'no-cache' } });
  }
}

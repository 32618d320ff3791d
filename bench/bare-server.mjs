/**
 * The floor for a cached read: node's http server and one ioredis GET of a
 * stored Pulse result (`<etag>\n<body>`), sent with the same headers. No
 * authentication, no validation, no rate limit: what the bytes cost.
 *
 *   PORT=4000 BARE_REDIS_URL=redis://127.0.0.1:6379/3 BARE_KEY='pulse:{o1}:res:…' node bench/bare-server.mjs
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.BARE_REDIS_URL);
const key = process.env.BARE_KEY;
createServer(async (request, response) => {
  const stored = await redis.get(key);
  const newline = stored.indexOf('\n');
  const body = stored.slice(newline + 1);
  response.writeHead(200, {
    'x-cache': 'HIT',
    etag: stored.slice(0, newline),
    'cache-control': 'private, no-cache',
    vary: 'Authorization',
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));

import { finished } from 'node:stream/promises';
import { PassThrough, Readable } from 'node:stream';
import { StalledDownloadError, endWhenStalled } from './stall-guard.js';

const IDLE_MS = 1000;
const chunks = (count: number) => Array.from({ length: count }, () => Buffer.alloc(4096, 'x'));

describe('endWhenStalled', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('ends a download whose reader takes nothing, and the source with it', async () => {
    const source = Readable.from(chunks(100), { objectMode: false });
    const body = endWhenStalled(source, IDLE_MS);
    const ended = finished(body).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(IDLE_MS - 1);
    expect(body.destroyed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await ended).toBeInstanceOf(StalledDownloadError);
    expect(source.destroyed).toBe(true);
  });

  it('waits as long as it takes for a slow source while the reader keeps up', async () => {
    const source = new PassThrough();
    const body = endWhenStalled(source, IDLE_MS);
    const received: Buffer[] = [];
    body.on('data', (chunk: Buffer) => received.push(chunk));
    await vi.advanceTimersByTimeAsync(5 * IDLE_MS);
    source.write('first');
    await vi.advanceTimersByTimeAsync(5 * IDLE_MS);
    source.end('last');
    await finished(body);
    expect(Buffer.concat(received).toString()).toBe('firstlast');
  });

  it('lets a slow reader go on as long as it takes something within each idle period', async () => {
    const source = Readable.from(chunks(50), { objectMode: false });
    const body = endWhenStalled(source, IDLE_MS);
    let bytes = 0;
    while (!body.readableEnded && !body.errored) {
      bytes += (body.read(4096) as Buffer | null)?.length ?? 0;
      await vi.advanceTimersByTimeAsync(IDLE_MS / 2);
    }
    expect(body.errored).toBeNull();
    expect(bytes).toBe(50 * 4096);
  });
});

import { IntrinsicException, Logger } from '@nestjs/common';
import { Transform, pipeline, type Readable } from 'node:stream';

const logger = new Logger('Export');

/**
 * Ends a download whose client has stopped reading: an intrinsic exception,
 * so Nest does not log it as a failure of the service (it is logged here, once, as a warning).
 */
export class StalledDownloadError extends IntrinsicException {
  constructor(idleMs: number) {
    super(`the client read nothing of the download for ${idleMs} ms; it was ended`);
  }
}

/**
 * `source` as read through a stage that destroys the whole pipeline when its
 * reader stalls: when, for `idleMs`, no chunk has moved on while output waits
 * to be read. A slow source is not a stall (nothing waits then), nor a slow
 * reader that keeps taking chunks. Destroying the stage destroys `source`,
 * which gives up whatever it holds (an export's database connection).
 */
export function endWhenStalled(source: Readable, idleMs: number): Readable {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(check, idleMs).unref();
  };
  const guard = new Transform({
    transform(chunk, _encoding, callback) {
      arm();
      callback(null, chunk);
    },
  });
  function check() {
    if (guard.readableLength === 0) return arm();
    const error = new StalledDownloadError(idleMs);
    logger.warn(error.message);
    guard.destroy(error);
  }
  // pipeline destroys each stream when another fails; its own error reaches the reader through `guard`.
  pipeline(source, guard, () => clearTimeout(timer));
  arm();
  return guard;
}

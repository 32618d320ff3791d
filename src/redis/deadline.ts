export class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
  }
}

/**
 * Rejects when `command` has not settled `ms` after it was sent, counting only
 * time in which its reply could have been read.
 *
 * ioredis's own `commandTimeout` is a plain timer. When the event loop is busy
 * for longer than the timeout (a burst of requests on a saturated CPU), timers
 * run before the poll phase that would read the replies already waiting in
 * the socket, so every command in flight "times out" although Redis answered
 * in a millisecond. Here an expired timer first lets one poll phase run
 * (`setImmediate` fires after it) and only then gives up: a slow event loop
 * is not a slow Redis. No library offers this, hence this helper.
 */
export function withDeadline<T>(command: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new RedisTimeoutError(ms));
      });
    }, ms);
    command.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

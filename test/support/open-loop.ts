/** One request of an open-loop load: when it went out, how it ended, and what it answered. */
export interface LoadSample {
  readonly index: number;
  readonly query: string;
  /** Milliseconds since the load began. */
  readonly sentAt: number;
  doneAt: number;
  status: number;
  cache: string | null;
  value: number | null;
  error?: string;
}

/**
 * Records into `sample` how `request` ends: its status, X-Cache and the value
 * `read` takes from a 200's body, or the error; `doneAt` on the clock.
 */
export async function recordResponse(
  sample: LoadSample,
  request: () => Promise<Response>,
  read: (body: unknown) => number | null,
  clock: () => number,
): Promise<void> {
  try {
    const res = await request();
    const text = await res.text();
    sample.status = res.status;
    sample.cache = res.headers.get('x-cache');
    if (res.status === 200) sample.value = read(JSON.parse(text));
  } catch (error) {
    sample.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } finally {
    sample.doneAt = clock();
  }
}

/**
 * Calls `fire(0)`, `fire(1)`, … on a fixed schedule of `ratePerSecond` from
 * the clock's zero, never waiting for earlier requests (an open loop: a slow
 * answer does not slow the load), `total` in all; resolves once all are sent.
 */
export function openLoop(
  clock: () => number,
  ratePerSecond: number,
  total: number,
  fire: (index: number) => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let sent = 0;
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((clock() * ratePerSecond) / 1000) + 1);
      while (sent < due) fire(sent++);
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
}

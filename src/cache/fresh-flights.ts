/**
 * Single flight for computations that must reflect everything that happened
 * before they were asked for: a caller joins only a computation that starts
 * after it arrived. While one computation of a key runs, the callers that
 * arrive meanwhile share the next one, which starts when the running one
 * ends. So at most one computation per key runs at a time, and however many
 * callers arrive, each waits for at most two.
 */
export class FreshFlights<T> {
  private readonly running = new Map<string, Promise<T>>();
  private readonly queued = new Map<string, Promise<T>>();

  run(key: string, compute: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (!running) return this.start(key, compute);
    let next = this.queued.get(key);
    if (!next) {
      next = running
        .catch(() => undefined)
        .then(() => {
          this.queued.delete(key);
          return this.start(key, compute);
        });
      this.queued.set(key, next);
    }
    return next;
  }

  /** Keys with a computation running, for tests and metrics. */
  get size(): number {
    return this.running.size;
  }

  private start(key: string, compute: () => Promise<T>): Promise<T> {
    const flight = compute().finally(() => {
      if (this.running.get(key) === flight) this.running.delete(key);
    });
    this.running.set(key, flight);
    return flight;
  }
}

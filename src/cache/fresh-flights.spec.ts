import { FreshFlights } from './fresh-flights.js';

/** A computation the test finishes by hand, recording when it started. */
function controlled() {
  const started: number[] = [];
  const finishers: (() => void)[] = [];
  let seq = 0;
  const compute = () => {
    const id = ++seq;
    started.push(id);
    return new Promise<number>((resolve) => finishers.push(() => resolve(id)));
  };
  return { started, finish: (i: number) => finishers[i](), compute };
}

describe('FreshFlights', () => {
  it('shares a running computation only with callers that arrive before it starts', async () => {
    const flights = new FreshFlights<number>();
    const c = controlled();
    const first = flights.run('k', c.compute);
    // These arrive while the first runs: they must not get its (older) answer.
    const second = flights.run('k', c.compute);
    const third = flights.run('k', c.compute);
    expect(c.started).toEqual([1]);
    c.finish(0);
    expect(await first).toBe(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(c.started).toEqual([1, 2]);
    c.finish(1);
    expect(await second).toBe(2);
    expect(await third).toBe(2);
    expect(flights.size).toBe(0);
  });

  it('never runs two computations of one key at once, and keys do not wait for each other', async () => {
    const flights = new FreshFlights<number>();
    let running = 0;
    let most = 0;
    const compute = async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      return 0;
    };
    const calls = Array.from({ length: 50 }, (_, i) =>
      new Promise((resolve) => setTimeout(resolve, i)).then(() => flights.run('k', compute)),
    );
    await Promise.all(calls);
    expect(most).toBe(1);

    const c = controlled();
    const a = flights.run('a', c.compute);
    const b = flights.run('b', c.compute);
    expect(c.started).toEqual([1, 2]);
    c.finish(1);
    c.finish(0);
    expect(await Promise.all([a, b])).toEqual([1, 2]);
  });

  it('starts the next computation after a failed one, and the failure reaches only its callers', async () => {
    const flights = new FreshFlights<string>();
    let fail = true;
    const compute = async () => {
      await Promise.resolve();
      if (fail) {
        fail = false;
        throw new Error('boom');
      }
      return 'ok';
    };
    const first = flights.run('k', compute);
    const second = flights.run('k', compute);
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe('ok');
  });
});

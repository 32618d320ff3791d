import { ALPHA, GAMMA, representative, sketchPercentiles, ZERO_BIN } from './sketch.js';

/** The bin of a value as DDSketch defines it, written out here: ceil(log_gamma(v)). */
const binOf = (v: number) => (v === 0 ? ZERO_BIN : Math.ceil(Math.log(v) / Math.log(GAMMA)));

describe('log-bucket sketch', () => {
  it('represents every value of a bin within 1%', () => {
    expect(GAMMA).toBeCloseTo(1.01 / 0.99, 15);
    for (const v of [1e-7, 0.001, 0.5, 1, 1.0101, 4, 24, 23.999, 1000, 8760]) {
      const r = representative(binOf(v));
      expect(Math.abs(r - v)).toBeLessThanOrEqual(ALPHA * v * (1 + 1e-9));
    }
    // The representative sits where the relative error to both ends of its bin is equal: ±α.
    const i = 37;
    expect(representative(i) / GAMMA ** i).toBeCloseTo(1 - ALPHA, 12);
    expect(representative(i) / GAMMA ** (i - 1)).toBeCloseTo(1 + ALPHA, 12);
  });

  it('keeps zero as zero, below every positive bin (a millisecond in hours is bin −754)', () => {
    expect(representative(ZERO_BIN)).toBe(0);
    expect(binOf(1 / 3_600_000)).toBe(-754);
    expect(ZERO_BIN).toBeLessThan(-754);
  });

  it('interpolates between the order statistics on either side of f·(n−1), as percentile_cont', () => {
    const bins = [
      { bin: ZERO_BIN, count: 2 },
      { bin: 10, count: 1 },
      { bin: 20, count: 1 },
    ];
    // n = 4: p50 at rank 1.5 between the second zero and bin 10's value.
    const [p50, p99] = sketchPercentiles(bins, [0.5, 0.99])!;
    expect(p50).toBeCloseTo(0.5 * representative(10), 12);
    // rank 2.97: 3% of bin 10's value and 97% of bin 20's.
    expect(p99).toBeCloseTo(0.03 * representative(10) + 0.97 * representative(20), 12);
    expect(sketchPercentiles([{ bin: ZERO_BIN, count: 5 }], [0.5, 0.95])).toEqual([0, 0]);
  });

  it('answers null for no values, also when bins cancelled out to zero', () => {
    expect(sketchPercentiles([], [0.5])).toBeNull();
    expect(sketchPercentiles([{ bin: 3, count: 0 }], [0.5])).toBeNull();
  });
});

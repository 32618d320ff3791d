/**
 * Log-bucket sketches with relative accuracy ALPHA (DDSketch's mapping): a
 * positive value v falls in bin ceil(log_gamma(v)), gamma = (1+α)/(1−α), and
 * every value of bin i lies in (gamma^(i−1), gamma^i], within α of the bin's
 * representative 2·gamma^i/(gamma+1). Zero has a bin of its own, read back as
 * 0. Bins are plain counts, so sketches merge and subtract exactly.
 */

export const ALPHA = 0.01;
export const GAMMA = (1 + ALPHA) / (1 - ALPHA);

/** The bin of zero: below every positive value's (a millisecond in hours is bin −754). */
export const ZERO_BIN = -32768;

/** SQL of the bin of a non-negative float8 value: the one expression every write and read uses. */
export function binSql(value: string): string {
  return `CASE WHEN ${value} = 0 THEN ${ZERO_BIN} ELSE ceil(ln(${value}) / ln(${GAMMA}::float8))::int END`;
}

/** The value a bin stands for: within ALPHA of every value in it. */
export function representative(bin: number): number {
  return bin === ZERO_BIN ? 0 : (2 * GAMMA ** bin) / (GAMMA + 1);
}

export interface SketchBin {
  readonly bin: number;
  readonly count: number;
}

/**
 * Continuous percentiles as `percentile_cont` computes them (rank f·(n−1),
 * linear interpolation between the order statistics on either side), with
 * each order statistic read as its bin's representative. Both are within
 * ALPHA of the true order statistics and non-negative, so their convex
 * combination is within ALPHA of the true percentile. `bins` in ascending
 * bin order; null when they count nothing.
 */
export function sketchPercentiles(bins: readonly SketchBin[], fractions: readonly number[]): number[] | null {
  const n = bins.reduce((total, b) => total + b.count, 0);
  if (n === 0) return null;
  const orderStatistic = (k: number) => {
    let below = 0;
    for (const b of bins) {
      below += b.count;
      if (k < below) return representative(b.bin);
    }
    return representative(bins[bins.length - 1]!.bin);
  };
  return fractions.map((f) => {
    const rank = f * (n - 1);
    const lower = orderStatistic(Math.floor(rank));
    const upper = orderStatistic(Math.ceil(rank));
    return lower + (rank - Math.floor(rank)) * (upper - lower);
  });
}

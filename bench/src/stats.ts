/** Small statistics helpers: every figure is reported as min / p10 / median / p90 / max over rounds. */

export interface Summary {
  readonly min: number;
  /** Nearest-rank 10th percentile: with fewer than 10 rounds, the minimum. */
  readonly p10: number;
  readonly median: number;
  /** Nearest-rank 90th percentile: with fewer than 10 rounds, the maximum. */
  readonly p90: number;
  readonly max: number;
}

/** The value at quantile `q` (0..1) of already sorted numbers, nearest-rank. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0)
    return { min: Number.NaN, p10: Number.NaN, median: Number.NaN, p90: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0] as number,
    p10: quantileSorted(sorted, 0.1),
    median: median(values),
    p90: quantileSorted(sorted, 0.9),
    max: sorted[sorted.length - 1] as number,
  };
}

/** Rounds a figure for display and for the results file: 3 significant digits, integers kept whole. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 1000) return Math.round(value);
  return Number(value.toPrecision(3));
}

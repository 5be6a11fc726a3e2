/**
 * The results file: every figure (min / median / max over rounds), every ratio derived from the medians,
 * and one entry per target of the benchmark issue.
 */
import { cpus, totalmem } from 'node:os';
import { round, type Summary, summarize } from './stats.js';

export interface Figure extends Summary {
  readonly unit: string;
  /** What was measured, in one line. */
  readonly what: string;
}

export type TargetOp = '>=' | '<=' | '=';

export interface TargetResult {
  readonly name: string;
  /** The target as a person reads it, e.g. `>= 0.85`. */
  readonly target: string;
  readonly measured: number;
  readonly met: boolean;
  readonly op: TargetOp;
  readonly threshold: number;
  readonly unit: string;
  /** How `measured` was obtained and, for a miss, what costs the time or the memory. */
  readonly detail: string;
}

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  /** Total memory, in MiB. */
  readonly memory: number;
}

export interface Results {
  readonly machine: Machine;
  readonly node: string;
  readonly date: string;
  readonly mode: 'full' | 'smoke';
  readonly durationS: number;
  readonly figures: Record<string, Figure>;
  readonly ratios: Record<string, number>;
  readonly targets: TargetResult[];
  /** Facts about how figures were measured (e.g. the emulator's memory method), by figure or section. */
  readonly notes: Record<string, string>;
  /** Sections that failed, with the error; the figures they would have written are absent. */
  readonly errors: Record<string, string>;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    memory: Math.round(totalmem() / 2 ** 20),
  };
}

/** Collects figures and ratios as the sections produce them. */
export class Recorder {
  readonly figures: Record<string, Figure> = {};
  readonly ratios: Record<string, number> = {};
  readonly notes: Record<string, string> = {};
  readonly errors: Record<string, string> = {};

  /** Records a figure from one value per round. */
  figure(name: string, unit: string, what: string, samples: readonly number[]): Figure {
    const s = summarize(samples);
    const figure: Figure = {
      unit,
      what,
      min: round(s.min),
      p10: round(s.p10),
      median: round(s.median),
      p90: round(s.p90),
      max: round(s.max),
    };
    this.figures[name] = figure;
    return figure;
  }

  /** The median of a recorded figure; throws when it is missing so a ratio never silently uses NaN. */
  median(name: string): number {
    const f = this.figures[name];
    if (!f) throw new Error(`figure ${name} was not measured`);
    return f.median;
  }

  ratio(name: string, value: number): number {
    this.ratios[name] = round(value);
    return value;
  }
}

export function target(
  name: string,
  op: TargetOp,
  threshold: number,
  measured: number,
  unit: string,
  detail: string,
): TargetResult {
  const m = round(measured);
  const met =
    Number.isFinite(m) && (op === '>=' ? m >= threshold : op === '<=' ? m <= threshold : m === threshold);
  return {
    name,
    target: `${op} ${round(threshold)}`,
    measured: m,
    met,
    op,
    threshold: round(threshold),
    unit,
    detail,
  };
}

/**
 * The chart of the results file: one bar per target, measured ÷ target, against a dashed line at 1 (the
 * target). Hand-written SVG, so it needs no dependency and opens in any browser.
 */
import type { Results, TargetResult } from './results.js';

const WIDTH = 1160;
const LABEL_W = 360;
const BAR_X = LABEL_W + 10;
const BAR_W = 420;
const ROW_H = 38;
const TOP = 92;
/** The axis runs from 0 to this many times the target; longer bars are clipped with an arrow. */
const AXIS_MAX = 2;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return Math.abs(value) >= 100 ? String(Math.round(value)) : String(Number(value.toPrecision(3)));
}

/** The measured value as a share of the target, for the bar's length. */
export function normalized(t: TargetResult): number {
  if (!Number.isFinite(t.measured) || !Number.isFinite(t.threshold) || t.threshold === 0) return 0;
  return Math.max(0, t.measured / t.threshold);
}

function row(t: TargetResult, i: number): string {
  const y = TOP + i * ROW_H;
  const v = normalized(t);
  const len = (Math.min(v, AXIS_MAX) / AXIS_MAX) * BAR_W;
  const colour = t.met ? '#2e7d32' : '#c62828';
  const better = t.op === '>=' ? 'higher is better' : t.op === '<=' ? 'lower is better' : 'must equal';
  const clipped =
    v > AXIS_MAX
      ? `<text x="${BAR_X + BAR_W + 2}" y="${y + 19}" fill="${colour}" font-size="12">▶</text>`
      : '';
  return [
    `<g><title>${esc(`${t.name}: ${t.detail}`)}</title>`,
    `<text x="${LABEL_W}" y="${y + 15}" text-anchor="end" font-size="13" fill="#222">${esc(t.name)}</text>`,
    `<text x="${LABEL_W}" y="${y + 29}" text-anchor="end" font-size="11" fill="#666">target ${esc(t.target.replace('>=', '≥').replace('<=', '≤'))} ${esc(t.unit)} (${better})</text>`,
    `<rect x="${BAR_X}" y="${y + 6}" width="${len.toFixed(1)}" height="20" fill="${colour}" rx="2"/>`,
    clipped,
    `<text x="${BAR_X + BAR_W + 18}" y="${y + 21}" font-size="13" fill="${colour}">${t.met ? '✔ met' : '✘ missed'}: ${esc(fmt(t.measured))} ${esc(t.unit)}</text>`,
    '</g>',
  ].join('');
}

export function renderChart(results: Results): string {
  const height = TOP + results.targets.length * ROW_H + 40;
  const lineX = BAR_X + BAR_W / AXIS_MAX;
  const met = results.targets.filter((t) => t.met).length;
  const ticks = [0, 0.5, 1, 1.5, 2]
    .map((tick) => {
      const x = BAR_X + (tick / AXIS_MAX) * BAR_W;
      return `<text x="${x}" y="${TOP - 8}" text-anchor="middle" font-size="11" fill="#666">${tick}×</text>`;
    })
    .join('');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="20" y="30" font-size="18" font-weight="600" fill="#111">lambda-cache benchmark: measured ÷ target (${met} of ${results.targets.length} targets met)</text>`,
    `<text x="20" y="52" font-size="12" fill="#555">${esc(`${results.machine.cpus} × ${results.machine.model}, ${results.machine.memory} MiB, Node ${results.node}, ${results.date}, ${results.mode} run`)}</text>`,
    `<text x="20" y="70" font-size="12" fill="#555">Each bar is the measured value as a multiple of its target; the dashed line is the target (1×). Green: met. Red: missed.</text>`,
    ticks,
    `<line x1="${BAR_X}" y1="${TOP - 2}" x2="${BAR_X}" y2="${height - 36}" stroke="#999"/>`,
    `<line x1="${lineX}" y1="${TOP - 2}" x2="${lineX}" y2="${height - 36}" stroke="#111" stroke-dasharray="5,4"/>`,
    ...results.targets.map(row),
    `<text x="20" y="${height - 12}" font-size="11" fill="#666">Ratios are of medians over rounds, product and baseline measured in the same run. Figures: bench/results/latest.json.</text>`,
    '</svg>',
    '',
  ].join('\n');
}

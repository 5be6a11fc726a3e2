/** The results as text: a console table and the Markdown the README carries. */
import type { Results } from './results.js';
import { HIT_ROUTE_LABELS, HIT_ROUTES, hitFigure } from './sections/hit-path.js';

function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return String(value);
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Connection counts the hit-path figures were measured at, from their names. */
function hitConnections(results: Results): number[] {
  const counts = new Set<number>();
  for (const name of Object.keys(results.figures)) {
    const m = /^hit\.[a-z_]+\.c(\d+)\.extension\.rps$/.exec(name);
    if (m) counts.add(Number(m[1]));
  }
  return [...counts].sort((a, b) => a - b);
}

/**
 * One row per route and connection count: the medians of the extension and of the bare server side by
 * side, and their ratio, so each kind of read is judged against the same floor at a glance.
 */
function hitRows(results: Results): string[][] {
  const median = (name: string) => results.figures[name]?.median ?? Number.NaN;
  const ratio = (a: number, b: number) => fmt(Number((a / b).toPrecision(3)));
  const rows: string[][] = [];
  for (const route of HIT_ROUTES) {
    for (const c of hitConnections(results)) {
      const rps = (s: 'extension' | 'bare') => median(hitFigure(route, c, s, 'rps'));
      const p99 = (s: 'extension' | 'bare') => median(hitFigure(route, c, s, 'p99'));
      if (!Number.isFinite(rps('extension'))) continue;
      rows.push([
        HIT_ROUTE_LABELS[route],
        String(c),
        fmt(Math.round(rps('extension'))),
        fmt(Math.round(rps('bare'))),
        ratio(rps('extension'), rps('bare')),
        fmt(p99('extension')),
        fmt(p99('bare')),
        ratio(p99('extension'), p99('bare')),
      ]);
    }
  }
  return rows;
}

const HIT_HEAD = [
  'route',
  'connections',
  'extension req/s',
  'bare req/s',
  'req/s × bare',
  'extension p99 ms',
  'bare p99 ms',
  'p99 × bare',
] as const;

function sections(results: Results) {
  const figures = Object.entries(results.figures).map(([name, f]) => [
    name,
    f.unit,
    fmt(f.min),
    fmt(f.p10),
    fmt(f.median),
    fmt(f.p90),
    fmt(f.max),
  ]);
  const ratios = Object.entries(results.ratios).map(([name, v]) => [name, fmt(v)]);
  const targets = results.targets.map((t) => [
    t.name,
    `${t.target} ${t.unit}`,
    `${fmt(t.measured)} ${t.unit}`,
    t.met ? 'yes' : 'NO',
  ]);
  return { figures, ratios, targets, hit: hitRows(results) };
}

export function renderTable(results: Results): string {
  const s = sections(results);
  const errors = Object.entries(results.errors).map(([k, v]) => `  ${k}: ${v.split('\n')[0]}`);
  return [
    `lambda-cache benchmark (${results.mode}) — ${results.machine.cpus} × ${results.machine.model}, Node ${results.node}, ${results.durationS} s`,
    '',
    table(['figure', 'unit', 'min', 'p10', 'median', 'p90', 'max'], s.figures),
    '',
    table(['ratio', 'value'], s.ratios),
    '',
    table(['target', 'target', 'measured', 'met'], s.targets),
    ...(s.hit.length > 0 ? ['', table(HIT_HEAD, s.hit)] : []),
    ...(errors.length > 0 ? ['', 'failed sections:', ...errors] : []),
    '',
  ].join('\n');
}

export function renderMarkdown(results: Results): string {
  const s = sections(results);
  return [
    `Run of ${results.date}: ${results.machine.cpus} × ${results.machine.model}, ${results.machine.memory} MiB, Node ${results.node}, ${results.mode} mode, ${results.durationS} s.`,
    '',
    '#### Targets',
    '',
    markdownTable(
      ['target', 'goal', 'measured', 'met', 'how'],
      results.targets.map((t, i) => [...(s.targets[i] ?? []), t.detail]),
    ),
    '',
    ...(s.hit.length > 0
      ? ['#### Hit path by route (medians over rounds)', '', markdownTable(HIT_HEAD, s.hit), '']
      : []),
    '#### Figures (min / p10 / median / p90 / max over rounds)',
    '',
    markdownTable(['figure', 'unit', 'min', 'p10', 'median', 'p90', 'max'], s.figures),
    '',
    '#### Ratios (of medians)',
    '',
    markdownTable(['ratio', 'value'], s.ratios),
    '',
  ].join('\n');
}

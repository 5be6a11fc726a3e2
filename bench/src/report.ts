/** The results as text: a console table and the Markdown the README carries. */
import type { Results } from './results.js';

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
  return { figures, ratios, targets };
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

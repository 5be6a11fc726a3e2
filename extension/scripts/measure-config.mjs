// Measures loadConfig alone (no prefetch) on generated configs: wall time and peak RSS.
//
//   npm run build -w @lambda-cache/extension   # loadConfig is read from dist/
//   node extension/scripts/measure-config.mjs [max|keys|aliases|anchors …] [--keep DIR] [--module FILE]
//
// --module measures another build of config.js (e.g. one compiled from an older commit) on the same files.
//
// Shapes:
//   max      the documented maximum: just under 1 MiB of parameter names (about 37 000), in groups of 500
//   keys     just under 1 MiB of DynamoDB keys (keys: lists of { pk, sk }), in tables of 500 keys
//   aliases  a 10 000-name list anchored once (&n) and reused by 2 000 groups (names: *n), about 96 KB
//   anchors  4 000 one-name groups sharing region and ttl through aliases (region: *r, ttl: *t), 227 KB
// Each shape is measured in a child process of its own, run with the layer's node flags, so the peak RSS
// is that of one load; the baseline is the peak of a child that only imported the module. CPU time (user +
// system, GC threads included) is printed next to the wall time: on a shared machine it is the steadier one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MAX_BYTES = 1024 * 1024;
const defaultModule = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'config.js');

function maxNames() {
  const lines = ['parameters:'];
  let size = lines[0].length + 1;
  for (let g = 0; ; g++) {
    const head = [`  - region: us-west-2`, `    ttl: 10m`, `    names:`];
    const group = [...head];
    for (let i = 0; i < 500; i++) group.push(`      - /app/prod/s${g}/p${i}`);
    const text = `${group.join('\n')}\n`;
    if (size + text.length > MAX_BYTES) {
      // Fill the rest with a last, shorter group.
      const rest = [...head];
      let restSize = head.join('\n').length + 1;
      for (let i = 0; ; i++) {
        const line = `      - /app/prod/s${g}/p${i}`;
        if (size + restSize + line.length + 1 > MAX_BYTES) break;
        rest.push(line);
        restSize += line.length + 1;
      }
      if (rest.length > head.length) lines.push(...rest);
      break;
    }
    lines.push(...group);
    size += text.length;
  }
  return `${lines.join('\n')}\n`;
}

function maxKeys() {
  const lines = ['dynamodb:'];
  let size = lines[0].length + 1;
  for (let t = 0; ; t++) {
    const head = [
      `  - table: Table-${t % 20}`,
      `    hashkey: pk`,
      `    hashkeytype: S`,
      `    sortkey: sk`,
      `    sortkeytype: N`,
      `    keys:`,
    ];
    const group = [...head];
    for (let i = 0; i < 500; i++) group.push(`      - { pk: customer-${t}-${i}, sk: ${i} }`);
    const text = `${group.join('\n')}\n`;
    if (size + text.length > MAX_BYTES) break;
    lines.push(...group);
    size += text.length;
  }
  return `${lines.join('\n')}\n`;
}

function aliases() {
  const lines = ['parameters:', '  - names: &n'];
  for (let i = 0; i < 10_000; i++) lines.push(`      - /p/${i}`);
  for (let g = 0; g < 2_000; g++) lines.push('  - names: *n');
  return `${lines.join('\n')}\n`;
}

function anchors() {
  const lines = ['parameters:', '  - names: [/app/prod/p-0]', '    region: &r us-west-2', '    ttl: &t 5m'];
  for (let i = 1; i < 4_000; i++)
    lines.push(`  - names: [/app/prod/p-${i}]`, '    region: *r', '    ttl: *t');
  return `${lines.join('\n')}\n`;
}

const SHAPES = { max: maxNames, keys: maxKeys, aliases, anchors };
/** As the layer's launcher starts the extension (scripts/launcher.mjs): no flags. */
const NODE_FLAGS = [];

if (process.argv[2] === '--child') {
  // One measurement: --child <config.js> <config file, or '' for the baseline>
  const [, , , modulePath, file] = process.argv;
  const { loadConfig } = await import(pathToFileURL(modulePath).href);
  let outcome = 'baseline';
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  if (file) {
    try {
      const c = await loadConfig(file, { required: true });
      const items = c.tables.reduce((n, t) => n + t.keys.length, 0);
      outcome = `ok: ${c.parameters.length} parameters, ${c.paths.length} paths, ${items} items`;
    } catch (err) {
      outcome = `refused: ${String(err.message).slice(0, 160)}`;
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(JSON.stringify({ ms, cpuMs, peakRssKiB: process.resourceUsage().maxRSS, outcome }));
  process.exit(0);
}

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const keep = option('--keep');
const modulePath = option('--module') ?? defaultModule;
const names = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const chosen = names.length > 0 ? names : Object.keys(SHAPES);
const dir = keep ?? mkdtempSync(join(tmpdir(), 'measure-config-'));
const child = (file) =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [...NODE_FLAGS, fileURLToPath(import.meta.url), '--child', modulePath, file],
      {
        encoding: 'utf8',
        timeout: 600_000,
      },
    ),
  );
try {
  const base = child('');
  console.log(`baseline (module loaded, nothing read): peak RSS ${(base.peakRssKiB / 1024).toFixed(0)} MiB`);
  for (const shape of chosen) {
    const make = SHAPES[shape];
    if (!make) throw new Error(`unknown shape ${shape} (expected one of ${Object.keys(SHAPES).join(', ')})`);
    const file = join(dir, `${shape}.yaml`);
    writeFileSync(file, make());
    const r = child(file);
    console.log(
      `${shape.padEnd(8)} ${(statSync(file).size / 1024).toFixed(0).padStart(5)} KiB  ` +
        `${r.ms.toFixed(0).padStart(6)} ms (CPU ${r.cpuMs.toFixed(0).padStart(6)} ms)  peak RSS ${(r.peakRssKiB / 1024).toFixed(0).padStart(4)} MiB  ${r.outcome}`,
    );
  }
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

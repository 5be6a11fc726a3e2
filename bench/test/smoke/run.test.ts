import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SMOKE } from '../../src/options.js';
import type { Results } from '../../src/results.js';
import { type HitRoute, hitFigure } from '../../src/sections/hit-path.js';
import { INIT_NOTES } from '../../src/sections/init.js';
import { expectedFigures, TARGET_NAMES } from '../../src/targets.js';

const runJs = fileURLToPath(new URL('../../dist/run.js', import.meta.url));

/** Runs the built suite in smoke mode; the whole run is bounded so a hang fails instead of waiting. */
function runSmoke(outDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [runJs, '--smoke', '--out', outDir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('bench', () => {
  it('writes every figure, ratio and target entry when run in smoke mode', async () => {
    if (!existsSync(runJs)) throw new Error(`${runJs} is missing: build the bench workspace (npm test does)`);
    const out = await mkdtemp(join(tmpdir(), 'lambda-cache-bench-smoke-'));
    try {
      const { code, output } = await runSmoke(out);
      expect(code, output).toBe(0);
      const results = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as Results;
      expect(results.mode).toBe('smoke');
      expect(results.errors).toEqual({});
      expect(results.machine.cpus).toBeGreaterThan(0);
      for (const name of expectedFigures(SMOKE)) {
        const figure = results.figures[name];
        expect(figure, name).toBeDefined();
        expect(Number.isFinite(figure?.median), name).toBe(true);
        expect(figure!.min, name).toBeLessThanOrEqual(figure!.max);
      }
      for (const value of Object.values(results.ratios)) expect(Number.isFinite(value)).toBe(true);
      // The hit path reads a secret and a configuration too, on every route that serves them, and the two
      // hit-path targets judge them with the parameter and the item (listed here, not taken from HIT_ROUTES,
      // so dropping a route fails).
      const routes: HitRoute[] = [
        'parameters',
        'dynamodb',
        'secrets',
        'secrets_aws',
        'appconfig',
        'appconfig_flag',
      ];
      for (const route of routes) {
        for (const c of SMOKE.connections) {
          expect(results.figures[hitFigure(route, c, 'extension', 'rps')], route).toBeDefined();
          expect(results.ratios[`hit.${route}.c${c}.rps_vs_bare`], route).toBeGreaterThan(0);
        }
      }
      const [throughput, p99] = results.targets;
      for (const route of routes) {
        expect(throughput?.detail).toContain(`${route} c${SMOKE.connections.at(-1)} `);
        expect(p99?.detail).toContain(`${route} `);
      }
      const markdown = await readFile(join(out, 'latest.md'), 'utf8');
      expect(markdown).toContain('| GET /secretsmanager/get | 1 |');
      expect(markdown).toContain('| GET /v1/appconfig (one flag) | 32 |');
      // How the emulator measured memory and whether the CPU share applied are said, not guessed.
      for (const key of Object.values(INIT_NOTES)) expect(results.notes[key], key).toMatch(/\w/);
      expect(results.targets.map((t) => t.name)).toEqual([...TARGET_NAMES]);
      for (const t of results.targets) {
        expect(typeof t.target, t.name).toBe('string');
        expect(Number.isFinite(t.measured), t.name).toBe(true);
        expect(typeof t.met, t.name).toBe('boolean');
      }
      const svg = await readFile(join(out, 'latest.svg'), 'utf8');
      expect(svg).toContain('<svg');
      for (const name of TARGET_NAMES) expect(svg).toContain(name.replace(/&/g, '&amp;'));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 180_000);
});

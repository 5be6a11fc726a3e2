/**
 * The packages as a user installs them: `npm run package` writes a tarball of every package a user
 * installs to dist/; the local tool's (`@lambda-cache/local` and the `@lambda-cache/shared` it depends
 * on), installed into an empty project, gives a `lambda-cache-local` command that runs a function with
 * the packaged layer. (The client's tarball is tested from handlers in client-package.test.ts.)
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/harness.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let work: string;
let project: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lambda-cache-local-pkg-'));
  project = join(work, 'project');
  await mkdir(project);
  // What `npm run package` (run by `npm test` before the tests) wrote: every package a user installs.
  const dist = join(repoRoot, 'dist');
  const packed = (await readdir(dist)).filter((f) => f.endsWith('.tgz'));
  const tarball = (name: string): string => {
    const file = packed.find((f) => f.startsWith(`lambda-cache-${name}-`));
    if (file === undefined) throw new Error(`npm run package wrote no ${name} tarball to dist/`);
    return join(dist, file);
  };
  expect(packed.map((f) => f.replace(/-\d.*$/, '')).sort()).toEqual([
    'lambda-cache-cdk',
    'lambda-cache-client',
    'lambda-cache-local',
    'lambda-cache-shared',
  ]);
  const tarballs = [tarball('shared'), tarball('local')];
  await writeFile(join(project, 'package.json'), '{ "name": "project", "private": true }\n');
  // Offline first: every dependency is in the npm cache the repository's own install filled.
  const install = ['install', '--no-audit', '--no-fund', ...tarballs];
  await run(npm, [...install, '--offline'], { cwd: project }).catch(() =>
    run(npm, [...install, '--prefer-offline'], { cwd: project }),
  );
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed local tool', () => {
  it('ships the Python runtime bootstrap the emulator starts Python functions with', () => {
    const bootstrap = join(
      project,
      'node_modules',
      '@lambda-cache',
      'local',
      'dist',
      'lambda',
      'python-bootstrap.py',
    );
    expect(existsSync(bootstrap)).toBe(true);
  });

  it('installs a lambda-cache-local command that prints its usage', async () => {
    const { stdout } = await run(join(project, 'node_modules', '.bin', 'lambda-cache-local'), ['--help']);
    expect(stdout).toMatch(/^Usage: lambda-cache-local <command>/);
  });

  it('runs a function with the packaged layer when invoked from the installed command', async () => {
    const fn = join(work, 'function');
    await mkdir(fn);
    await writeFile(
      join(fn, 'index.mjs'),
      'export const handler = async (event) => ({ echoed: event.n });\n',
    );
    const { stdout } = await run(
      join(project, 'node_modules', '.bin', 'lambda-cache-local'),
      [
        'invoke',
        '--layer',
        join(repoRoot, 'dist', 'lambda-cache-layer.zip'),
        '--function',
        fn,
        '--handler',
        'index.handler',
        '--event',
        '{"n":7}',
        '--env',
        'CACHE_EXTENSION_PORT=0',
        '--env',
        'AWS_REGION=us-west-2',
      ],
      { timeout: 60_000 },
    );
    expect(stdout).toContain('{"echoed":7}');
    expect(stdout).toMatch(/REPORT RequestId: /);
  });
});

// Used by the workspaces' build scripts (repository-only, like every file here): a package whose bundles
// redistribute third-party code ships each bundled package's licence with it.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes `dist/THIRD-PARTY-LICENSES.txt` for every npm package whose code is in one of `results` (esbuild
 * results with a metafile; their input paths are relative to the working directory).
 */
export async function writeThirdPartyLicenses(dist, results) {
  const bundled = new Set();
  for (const input of results.flatMap((r) => Object.keys(r.metafile.inputs))) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) bundled.add(join(process.cwd(), m[1]));
  }
  const notices = [];
  for (const dir of [...bundled].sort()) {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    const files = (await readdir(dir)).filter((f) => /^(licen[cs]e|notice)/i.test(f)).sort();
    const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
    notices.push(
      `${pkg.name}@${pkg.version} (${pkg.license})\n\n${texts.join('\n').trim() || '(no licence file)'}\n`,
    );
  }
  await writeFile(
    join(dist, 'THIRD-PARTY-LICENSES.txt'),
    `Third-party code bundled into this package:\n\n${notices.join(`\n${'-'.repeat(72)}\n\n`)}`,
  );
}

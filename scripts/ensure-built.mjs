// Used by the workspaces' bin shims, only inside the repository (a published package has its `dist/`):
// builds a workspace whose command is not built yet.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Builds `workspace` (and, by turbo's task graph, what it depends on) so that `target` exists. */
export function ensureBuilt(target, workspace) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`building ${workspace} first (a fresh clone has no build yet)…\n`);
  const built = spawnSync(
    'npx',
    ['turbo', 'run', 'build', `--filter=${workspace}`, '--output-logs=errors-only'],
    {
      cwd: root,
      // Turbo's output goes to stderr: the command's stdout may be redirected (a generated schema, say).
      stdio: ['ignore', 2, 2],
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    },
  );
  if (built.status !== 0 || !existsSync(target)) {
    process.stderr.write(`could not build ${workspace}; run \`npm run build\` at the repository's root\n`);
    process.exit(1);
  }
}

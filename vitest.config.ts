import { defineConfig } from 'vitest/config';
import { benchProjects } from './bench/vitest.config.ts';

// One root run over every workspace's tests. Unit projects are fast and isolated; the integration
// project (test/) runs the packaged layer as real processes, so it gets longer timeouts. The bench's
// smoke run spawns processes for minutes, so it is a project of its own that runs last (bench-smoke).
export default defineConfig({
  test: {
    projects: [
      ...['shared', 'extension', 'client', 'local', 'cdk', 'test'].map((dir) => `${dir}/vitest.config.ts`),
      ...benchProjects,
    ],
  },
});

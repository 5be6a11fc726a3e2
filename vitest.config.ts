import { defineConfig } from 'vitest/config';

// One root run over every workspace's tests. Unit projects are fast and isolated; the integration
// project (test/) runs the packaged layer as real processes, so it gets longer timeouts.
export default defineConfig({
  test: {
    projects: ['shared', 'extension', 'client', 'local', 'test', 'bench'].map(
      (dir) => `${dir}/vitest.config.ts`,
    ),
  },
});

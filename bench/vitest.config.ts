import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The benchmark's two projects: the unit tests of its own helpers, and the smoke run of the whole suite,
 * which starts the packaged layer many times and so runs alone, in a group after every other one. The
 * root config spreads this list into its `projects` (a config file named there is one project only).
 */
export const benchProjects: TestProjectInlineConfiguration[] = [
  {
    test: {
      name: 'bench-unit',
      root,
      include: ['test/unit/**/*.test.ts'],
    },
  },
  {
    test: {
      name: 'bench-smoke',
      root,
      include: ['test/smoke/**/*.test.ts'],
      testTimeout: 240_000,
      maxWorkers: 1,
      // After the unit projects (group 0) and the integration project (group 1), so the processes it
      // starts do not compete with them for the cores.
      sequence: { groupOrder: 2 },
    },
  },
];

export default defineConfig({ test: { projects: benchProjects } });

import { defineConfig } from 'vitest/config';

// Integration, compatibility, fault and security tests: each spawns the packaged layer under the local
// Lambda emulator, against local backends, over real sockets on port 0.
export default defineConfig({
  test: {
    name: 'integration',
    include: ['integration/**/*.test.ts', 'reliability/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: running many process-spawning files at once only makes each slower and flakier.
    maxWorkers: 2,
  },
});

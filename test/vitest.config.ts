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
    // A group of its own (a project with its own maxWorkers needs one): after the unit projects, so the
    // real processes here do not compete with them for the cores.
    sequence: { groupOrder: 1 },
    // The local backends load the AWS SDK in the test process, which warns about Node 20 once; the
    // extension's own output is checked for warnings separately.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'cdk-unit',
    include: ['test/unit/**/*.test.ts'],
    // The first synth of a file loads most of aws-cdk-lib, which takes seconds on a busy machine.
    testTimeout: 30_000,
  },
});

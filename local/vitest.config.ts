import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'local-unit',
    include: ['test/unit/**/*.test.ts'],
    // The local backends and the SDK-based tests load the AWS SDK, which warns about Node 20 once per
    // process; that notice is not what these tests look at.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});

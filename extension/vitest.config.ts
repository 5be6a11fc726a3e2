import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'extension-unit',
    include: ['test/unit/**/*.test.ts'],
    // The SDK warns about Node 20 once per process; that notice is not what these tests look at.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});

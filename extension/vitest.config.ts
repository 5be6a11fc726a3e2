import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'extension-unit',
    include: ['test/unit/**/*.test.ts'],
  },
});

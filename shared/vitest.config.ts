import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'shared-unit',
    include: ['test/unit/**/*.test.ts'],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'local-unit',
    include: ['test/unit/**/*.test.ts'],
  },
});

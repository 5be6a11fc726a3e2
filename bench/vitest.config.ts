import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'bench-unit',
    include: ['test/unit/**/*.test.ts'],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'client-unit',
    include: ['test/unit/**/*.test.ts'],
    // Type tests (schema typing, overloads, instanceof narrowing) run with the unit tests.
    typecheck: {
      enabled: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});

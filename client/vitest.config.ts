import { defineConfig } from 'vitest/config';

// The type tests (`test/types/*.test-d.ts`: schema typing, overloads, instanceof narrowing) are checked by
// `tsc -p client/tsconfig.json` in `npm run typecheck`, where a failed `expectTypeOf` is a compile error;
// vitest's own typecheck mode would run the same checks again and print an "experimental" notice each run.
export default defineConfig({
  test: {
    name: 'client-unit',
    include: ['test/unit/**/*.test.ts'],
  },
});

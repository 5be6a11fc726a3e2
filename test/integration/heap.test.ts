import { parameterPath } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { layerKind, type Stack, startStack } from '../src/harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const NAMES = Array.from({ length: 10_000 }, (_, i) => `/heap/p-${i}`);
const VALUE = 'v'.repeat(1000);

const largeConfig = `parameters:
  - region: us-west-2
    names:
${NAMES.map((n) => `      - ${n}`).join('\n')}
`;

/** The extension runs under the Node that runs the tests (or Bun, in the standalone layer). */
const canTrim = layerKind === 'node' && Number(process.versions.v8.split('.')[0]) >= 12;
const TRIMMED = /\[lambda-cache\] heap trimmed heapMiB=([\d.]+) usedMiB=([\d.]+) freedMiB=([\d.]+) ms=\d+/;

/**
 * Without a memory limit Node grows the young generation to 32 MiB, and most of the heap is committed
 * but unused; in 128 MB (Lambda's common sizes up to 512 MB size the heap the same) it is 2 MiB, and the
 * heap is small and full of garbage. The trim must give memory back in both.
 */
const SANDBOXES = [
  { name: 'without a memory limit', sandbox: { sandbox: 'pss' } },
  { name: 'in a 128 MB sandbox', sandbox: { sandbox: 'auto', memoryMb: 128, cpuShare: false } },
] as const;

describe('the heap after prefetch', () => {
  it.each(SANDBOXES)(
    `is trimmed after 10 000 entries of 1 KB $name ${canTrim ? 'on V8 12 and later' : '(not on this runtime)'}, and every entry still served`,
    async ({ sandbox }) => {
      stack = await startStack({
        config: largeConfig,
        seed: { parameters: NAMES.map((name) => ({ name, value: `${name}=${VALUE}` })) },
        initTimeoutMs: 30_000,
        sandbox,
      });
      const line = stack.logs().find((l) => TRIMMED.test(l));
      if (canTrim) {
        const [, heap, used, freed] = (TRIMMED.exec(line ?? '') ?? []).map(Number);
        expect(heap).toBeGreaterThanOrEqual(16);
        expect(used).toBeLessThanOrEqual(heap as number);
        // A good part of the committed heap is given back: at 10 000 entries it holds far more garbage
        // and free pages than entries.
        expect(freed).toBeGreaterThan((heap as number) / 4);
      } else {
        expect(line).toBeUndefined();
      }
      for (const name of [NAMES[0], NAMES[4999], NAMES[9999]] as string[]) {
        const res = await stack.get(parameterPath(name));
        expect(res.status).toBe(200);
        expect(res.body.value).toBe(`${name}=${VALUE}`);
        expect(res.headers['x-cache']).toBe('hit');
      }
    },
  );

  it("is not collected after the seed's small prefetch: nothing worth the CPU to give back", async () => {
    stack = await startStack();
    expect(stack.logs().some((l) => l.includes('prefetch done'))).toBe(true);
    expect(stack.logs().find((l) => TRIMMED.test(l))).toBeUndefined();
  });
});

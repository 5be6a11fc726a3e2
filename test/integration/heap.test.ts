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
const TRIMMED = /\[lambda-cache\] heap trimmed slackMiB=([\d.]+) freedMiB=([\d.]+) ms=\d+/;

describe('the heap after prefetch', () => {
  it(`is trimmed after 10 000 entries of 1 KB ${canTrim ? 'on V8 12 and later' : '(not on this runtime)'}, and every entry still served`, async () => {
    stack = await startStack({
      config: largeConfig,
      seed: { parameters: NAMES.map((name) => ({ name, value: `${name}=${VALUE}` })) },
      initTimeoutMs: 30_000,
    });
    const line = stack.logs().find((l) => TRIMMED.test(l));
    if (canTrim) {
      const [, slack, freed] = TRIMMED.exec(line ?? '') ?? [];
      expect(Number(slack)).toBeGreaterThanOrEqual(16);
      // Most of what was committed but unused is given back.
      expect(Number(freed)).toBeGreaterThan(Number(slack) / 2);
    } else {
      expect(line).toBeUndefined();
    }
    for (const name of [NAMES[0], NAMES[4999], NAMES[9999]] as string[]) {
      const res = await stack.get(parameterPath(name));
      expect(res.status).toBe(200);
      expect(res.body.value).toBe(`${name}=${VALUE}`);
      expect(res.headers['x-cache']).toBe('hit');
    }
  });

  it("is not collected after the seed's small prefetch: nothing worth the CPU to give back", async () => {
    stack = await startStack();
    expect(stack.logs().some((l) => l.includes('prefetch done'))).toBe(true);
    expect(stack.logs().find((l) => TRIMMED.test(l))).toBeUndefined();
  });
});

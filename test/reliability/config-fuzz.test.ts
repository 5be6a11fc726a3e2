import { type Backends, startBackends } from '@lambda-cache/local';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { SEED_REGION, seedConfig, seedData } from '../src/fixtures.js';
import { startStack, waitFor } from '../src/harness.js';

let backends: Backends;
beforeAll(async () => {
  backends = await startBackends({ seed: seedData(), region: SEED_REGION });
});
afterAll(async () => {
  await backends?.close();
});

interface Outcome {
  /** `undefined` when init succeeded. */
  reported: string | undefined;
  exitCode: number | null | undefined;
  logs: string[];
}

/** Starts the packaged extension with this config (and env) and reports how its init ended. */
async function initWith(config: string, env: Record<string, string> = {}): Promise<Outcome> {
  const stack = await startStack({ backends, config, env, init: false, requireListening: false });
  try {
    const result = await stack.initDone;
    if (result.ok) return { reported: undefined, exitCode: null, logs: stack.logs() };
    const initError = stack.lambda.extensions[0]?.initError;
    // The error type and the body the extension posted to init/error (or, failing that, why init failed).
    const reported = initError ? `${initError.errorType} ${initError.body}` : JSON.stringify(result.error);
    await waitFor(
      'the extension to exit after init/error',
      () => stack.lambda.extensions[0]?.exitCode != null,
      {
        timeoutMs: 5000,
      },
    ).catch(() => undefined);
    return { reported, exitCode: stack.lambda.extensions[0]?.exitCode, logs: stack.logs() };
  } finally {
    await stack.close();
  }
}

const STACK_TRACE = /\n\s+at |\bat [\w.<>]+ \(.*:\d+:\d+\)/;

/** `line`: where the mistake is; a parser may place an unterminated construct at the next line (the end). */
function expectConfigInvalid(o: Outcome, line?: number | readonly number[]): void {
  expect(o.reported).toBeDefined();
  expect(o.reported).toContain('Extension.ConfigInvalid');
  const lines = line === undefined ? ['\\d+'] : [line].flat().map(String);
  expect(o.reported).toMatch(new RegExp(lines.map((l) => `:${l}:\\d+|line ${l}\\b`).join('|')));
  expect(o.reported).not.toMatch(STACK_TRACE);
  for (const l of o.logs) expect(l).not.toMatch(STACK_TRACE);
  expect(o.exitCode).toBeGreaterThan(0);
}

/** Near misses of the seed's config: one mistake each, on a known line. */
const NEAR_MISSES: [string, string, number | number[]][] = [
  ['unknown top-level key', seedConfig.replace('dynamodb:', 'dynamodbb:'), 6],
  ['unknown nested key', seedConfig.replace('    names:', '    nmes:'), 3],
  ['names is not a list', seedConfig.replace(/names:\n {6}- CacheExtensions_Parameter1/, 'names: 42'), 3],
  ['bad key type', seedConfig.replace('hashkeytype: S', 'hashkeytype: X'), 9],
  ['bad ttl', seedConfig.replace('    names:', '    ttl: 5x\n    names:'), 3],
  ['negative ttl', seedConfig.replace('    names:', '    ttl: -1s\n    names:'), 3],
  ['ttl too long', seedConfig.replace('    names:', '    ttl: 100h\n    names:'), 3],
  ['region is a number', seedConfig.replace('region: us-west-2', 'region: 42'), 2],
  ['table is a list', seedConfig.replace('table: DynamoDbTable', 'table: []'), 7],
  ['unterminated flow', `${seedConfig}extra: [\n`, [14, 15]],
  ['duplicate key', seedConfig.replace('    hashkey: pKey', '    hashkey: pKey\n    hashkey: pKey'), 9],
];

// Each case is its own extension process; they wait on process start more than on CPU, so run a few at once.
describe.concurrent('config errors', () => {
  for (const [what, config, line] of NEAR_MISSES) {
    it(`reports init/error naming line ${[line].flat().join(' or ')} when the config has ${what}`, async () => {
      expectConfigInvalid(await initWith(config), line);
    });
  }

  for (const [variable, value] of [
    ['CACHE_EXTENSION_PORT', '65536'],
    ['CACHE_EXTENSION_PORT', '9001'],
    ['CACHE_EXTENSION_TTL', '5x'],
    ['CACHE_EXTENSION_LOG_LEVEL', 'loud'],
  ] as const) {
    it(`reports init/error naming ${variable} when it is ${value}`, async () => {
      const o = await initWith(seedConfig, { [variable]: value });
      expect(o.reported).toContain('Extension.ConfigInvalid');
      expect(o.reported).toContain(variable);
      expect(o.reported).not.toMatch(STACK_TRACE);
      expect(o.exitCode).toBeGreaterThan(0);
    });
  }

  it('never crashes without init/error when the config is random YAML', async () => {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({
        parameters: fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 }))),
        ),
      }),
      fc.record({
        dynamodb: fc.array(
          fc.record(
            {
              table: fc.oneof(fc.string(), fc.integer()),
              hashkey: fc.string(),
              hashkeytype: fc.constantFrom('S', 'N', 'B', 'X', ''),
              hashkeyvalue: fc.oneof(fc.string(), fc.integer()),
              ttl: fc.oneof(fc.string(), fc.constantFrom('1s', '5m', '0', '25h')),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 2 },
        ),
      }),
    );
    const text = fc.oneof(
      value.map((v) => YAML.stringify(v)),
      // Raw text: YAML syntax errors, tabs, stray characters.
      fc.string({ maxLength: 80 }),
      fc
        .tuple(
          fc.nat(seedConfig.length - 1),
          fc.constantFrom('\t', ':', '[', '{', '- ', '"', '&a', '*b', '!!binary '),
        )
        .map(([at, s]) => seedConfig.slice(0, at) + s + seedConfig.slice(at)),
    );
    await fc.assert(
      fc.asyncProperty(text, async (config) => {
        const o = await initWith(config);
        if (o.reported === undefined) return; // a valid config is fine
        expectConfigInvalid(o);
      }),
      { numRuns: 6, endOnFailure: true },
    );
  });
});

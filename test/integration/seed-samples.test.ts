import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backends, startBackends } from '@lambda-cache/local';
import { parameterPath } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE, SEED_REGION, seedData } from '../src/fixtures.js';
import {
  assertNoValuesLogged,
  freePort,
  type Stack,
  secretValues,
  startStack,
  totalCalls,
} from '../src/harness.js';

// Functions written for the two generations of the AWS sample cache-extension-demo (see
// test/fixtures/README.md), run under the emulator with the layer and only the variables the root
// README's migration guide names for their generation.

const ITEM = '{"Data":"Data goes here","pKey":"pKey1","sKey":"sKey1"}';
const NO_TOKEN = { 'x-aws-parameters-secrets-token': '' };

let stack: Stack | undefined;
let backends: Backends | undefined;
let functionDir: string | undefined;
afterEach(async () => {
  if (stack) {
    await stack.lambda.shutdown('spindown');
    // The sample's function prints the item it read, as it should; the extension's own lines print no value.
    assertNoValuesLogged(
      stack.logs().filter((l) => l.includes('[lambda-cache]')),
      secretValues(seedData()),
    );
    await stack.close();
  }
  stack = undefined;
  await backends?.close();
  backends = undefined;
  if (functionDir) await rm(functionDir, { recursive: true, force: true });
  functionDir = undefined;
});

/**
 * Copies the fixture into a temp dir with its port literal pointed at a free port, and starts the layer
 * there with `env` plus `CACHE_EXTENSION_PORT` set to that port (which stands for the sample's port: tests
 * never listen on a fixed one). A port taken between the probe and the bind is retried with another.
 */
async function runSample(fixture: string, samplePort: number, env: Record<string, string>): Promise<Stack> {
  // Backends of our own: the harness's value check would flag the function printing what it read.
  backends = await startBackends({ seed: seedData(), region: SEED_REGION });
  const source = await readFile(new URL(`../fixtures/${fixture}/index.js`, import.meta.url), 'utf8');
  const literal = `port: ${samplePort},`;
  expect(source.split(literal)).toHaveLength(2);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    functionDir = await mkdtemp(join(tmpdir(), 'lambda-cache-sample-'));
    await writeFile(join(functionDir, 'index.js'), source.replace(literal, `port: ${port},`));
    await copyFile(
      new URL(`../fixtures/${fixture}/config.yaml`, import.meta.url),
      join(functionDir, 'config.yaml'),
    );
    try {
      return await startStack({
        functionDir,
        backends,
        seed: {},
        env: { ...env, CACHE_EXTENSION_PORT: String(port) },
      });
    } catch (err) {
      await rm(functionDir, { recursive: true, force: true });
      functionDir = undefined;
      if (attempt >= 3 || !/EADDRINUSE/.test(String((err as Error).message))) throw err;
    }
  }
}

/** The function's own log lines (the emulator prefixes them with a time, the request id and a level). */
function printed(s: Stack, requestId: string): string[] {
  return s
    .logs()
    .filter((l) => l.includes(`\t${requestId}\t`))
    .map((l) => l.split('\t').slice(3).join('\t'));
}

function maxAge(headers: Record<string, string>): number {
  return Number(/max-age=(\d+)/.exec(headers['cache-control'] ?? '')?.[1]);
}

describe('a function written for the first cache-extension-demo (port 3000, /dynamodb/ID)', () => {
  it('prints the item when the seed routes are turned on, and its TTL variable still counts', async () => {
    stack = await runSample('cache-extension-demo-first', 3000, {
      CACHE_EXTENSION_LEGACY_ROUTES: 'true',
      CACHE_TIMEOUT_IN_MINUTES: '10',
    });
    for (let i = 0; i < 2; i++) {
      const result = await stack.lambda.invoke({ payload: 'hello' });
      expect(result.ok).toBe(true);
      // A callback handler that never calls back: the runtime answers null once the event loop is empty.
      expect(result.payload).toBeNull();
      expect(printed(stack, result.requestId)).toEqual([`Finally got some response here: ${ITEM}`]);
    }
    const raw = await stack.get(`/parameters/${SEED_PARAMETER}`, NO_TOKEN);
    expect(raw.text).toBe(SEED_PARAMETER_VALUE);
    // 10 minutes from CACHE_TIMEOUT_IN_MINUTES, not the 5-minute default.
    const age = maxAge((await stack.get(parameterPath(SEED_PARAMETER))).headers);
    expect(age).toBeGreaterThan(300);
    expect(age).toBeLessThanOrEqual(600);
  });
});

describe('a function written for cache-extension-demo as it stands today (port 4000, ?name=)', () => {
  it('prints the item when the port and the seed routes are set', async () => {
    stack = await runSample('cache-extension-demo-current', 4000, { CACHE_EXTENSION_LEGACY_ROUTES: 'true' });
    const result = await stack.lambda.invoke({ payload: 'hello' });
    expect(result.ok).toBe(true);
    expect(result.payload).toBeNull();
    expect(printed(stack, result.requestId)).toEqual([`Retrieved data from the cache: ${ITEM}`]);
    const raw = await stack.get(`/parameters?name=${SEED_PARAMETER}`, NO_TOKEN);
    expect(raw.status).toBe(200);
    expect(raw.text).toBe(SEED_PARAMETER_VALUE);
  });

  it("behaves as the sample did when its TTL and init variables are set to the sample's defaults", async () => {
    stack = await runSample('cache-extension-demo-current', 4000, {
      CACHE_EXTENSION_LEGACY_ROUTES: 'true',
      CACHE_EXTENSION_TTL: '60m',
      CACHE_EXTENSION_INIT_STARTUP: 'false',
    });
    // Nothing loaded during init: the first read loads the item.
    expect(totalCalls(stack.backends.dynamodb)).toBe(0);
    const first = await stack.lambda.invoke({});
    expect(first.ok).toBe(true);
    expect(printed(stack, first.requestId)).toEqual([`Retrieved data from the cache: ${ITEM}`]);
    expect(totalCalls(stack.backends.dynamodb)).toBe(1);
    const second = await stack.lambda.invoke({});
    expect(printed(stack, second.requestId)).toEqual([`Retrieved data from the cache: ${ITEM}`]);
    expect(totalCalls(stack.backends.dynamodb)).toBe(1);
    const raw = await stack.get(`/parameters?name=${SEED_PARAMETER}`, NO_TOKEN);
    expect(raw.text).toBe(SEED_PARAMETER_VALUE);
    const age = maxAge(raw.headers);
    expect(age).toBeGreaterThan(3000);
    expect(age).toBeLessThanOrEqual(3600);
  });
});

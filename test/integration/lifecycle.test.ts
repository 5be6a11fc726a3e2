import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROUTES } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodesOf, httpGet, layerDir, type Stack, startStack } from '../src/harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('extension lifecycle', () => {
  it('registers under the launcher file name and answers /ping before register returns', async () => {
    const launchers = await readdir(join(await layerDir(), 'extensions'));
    expect(launchers).toEqual(['lambda-cache']);
    const pings: { name: string; status: number }[] = [];
    let listeningSeenAtRegister = false;
    stack = await startStack({
      beforeRegisterResponse: async (ext, ctx) => {
        const name = ext.name;
        const port = ctx.port();
        listeningSeenAtRegister = port !== undefined;
        const res = await httpGet(port ?? 1, ROUTES.ping);
        pings.push({ name, status: res.status });
      },
    });
    expect(listeningSeenAtRegister).toBe(true);
    expect(pings).toEqual([{ name: 'lambda-cache', status: 200 }]);
    expect(stack.lambda.extensions.map((e) => e.name)).toEqual(['lambda-cache']);
  });

  it('exits 0 when SHUTDOWN arrives', async () => {
    stack = await startStack();
    expect((await stack.get(ROUTES.ping)).status).toBe(200);
    const result = await stack.lambda.shutdown('spindown');
    expect(result.killed).toEqual([]);
    expect(exitCodesOf(result)).toEqual([0]);
  });

  it('exits 0 when the SHUTDOWN reason is in another case', async () => {
    stack = await startStack();
    const result = await stack.lambda.shutdown('SPINDOWN' as 'spindown');
    expect(result.killed).toEqual([]);
    expect(exitCodesOf(result)).toEqual([0]);
  });

  it('reports init/error naming the line and exits non-zero when the config is broken', async () => {
    stack = await startStack({
      config:
        'parameters:\n  - region: us-west-2\n    names:\n      - CacheExtensions_Parameter1\n    ttl: soon\n',
      init: false,
    });
    const result = await stack.initDone;
    expect(result.ok).toBe(false);
    const [ext] = stack.lambda.extensions;
    expect(ext?.initError?.errorType).toBe('Extension.ConfigInvalid');
    const reported = ext?.initError?.body ?? '';
    // The offending key is on line 5.
    expect(reported).toMatch(/:5:\d+|line 5/);
    expect(reported).not.toMatch(/\n\s+at /);
    await stack.close();
    // It exits by itself with a failure code (not killed by a signal, not 0).
    const after = stack.lambda.extensions[0];
    expect(after?.signal).toBeNull();
    expect(after?.exitCode).toBeGreaterThan(0);
  });
});

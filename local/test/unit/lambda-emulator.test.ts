import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaEmulator, type LambdaEmulatorOptions } from '../../src/lambda/emulator.js';

const execFileAsync = promisify(execFile);
const fixtures = fileURLToPath(new URL('../fixtures/lambda/', import.meta.url));
const functionDir = join(fixtures, 'function');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A layer directory whose extensions/ holds the fixture extension under each given name. */
async function layerWith(...names: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'emulator-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'extensions'));
  for (const name of names) {
    await copyFile(join(fixtures, 'extension.cjs'), join(dir, 'extensions', name));
    await chmod(join(dir, 'extensions', name), 0o755);
  }
  return dir;
}

async function emulator(
  opts: Partial<LambdaEmulatorOptions> & { layerDir: string },
): Promise<LambdaEmulator> {
  const lambda = await LambdaEmulator.create({
    functionDir,
    handler: 'esm.handler',
    shutdownTimeoutMs: 500,
    ...opts,
  });
  cleanups.push(() => lambda.shutdown());
  return lambda;
}

describe('LambdaEmulator', { timeout: 20_000 }, () => {
  it('returns the handler result and logs START, END and REPORT when the ESM handler succeeds', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-normal') });
    const result = await lambda.invoke({ hello: 'world' });
    expect(result.ok).toBe(true);
    expect(result.payload).toMatchObject({
      module: 'esm',
      event: { hello: 'world' },
      requestId: result.requestId,
      hasTimeLeft: true,
    });
    expect(lambda.logs).toContain(`START RequestId: ${result.requestId} Version: $LATEST`);
    expect(lambda.logs).toContain(`END RequestId: ${result.requestId}`);
    expect(result.report).toMatch(
      new RegExp(
        `^REPORT RequestId: ${result.requestId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: [\\d.]+ ms$`,
      ),
    );
    expect(lambda.logs.some((line) => /\tINFO\tesm handler got \{"hello":"world"\}$/.test(line))).toBe(true);
    expect(lambda.logs).toContain('EXTENSION\tName: ext-normal\tState: Ready\tEvents: [INVOKE, SHUTDOWN]');
  });

  it('reports Init Duration only on the first invoke when the environment is reused', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-normal') });
    const first = await lambda.invoke({});
    const second = await lambda.invoke({});
    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(first.report).toContain('Init Duration:');
    expect(second.initDurationMs).toBeUndefined();
    expect(second.report).not.toContain('Init Duration');
    expect(second.ok).toBe(true);
  });

  it('runs a CommonJS callback handler when the handler file is .cjs', async () => {
    const lambda = await emulator({ layerDir: await layerWith(), handler: 'cjs.handler' });
    const result = await lambda.invoke({ n: 1 });
    expect(result.payload).toEqual({ module: 'cjs', event: { n: 1 }, requestId: result.requestId });
  });

  it('resolves a nested export in a sub-directory when the handler names dir/file.a.b', async () => {
    const lambda = await emulator({ layerDir: await layerWith(), handler: 'lib/nested.api.handler' });
    expect((await lambda.invoke({})).payload).toBe('nested');
  });

  it('returns a Lambda error payload when the handler throws', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-normal'), handler: 'fail.handler' });
    const result = await lambda.invoke({});
    expect(result.ok).toBe(false);
    expect(result.payload).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'the handler failed on purpose',
    });
    expect((result.payload as { trace: string[] }).trace[0]).toContain('TypeError');
    // A function error does not reset the environment.
    expect((await lambda.invoke({})).initDurationMs).toBeUndefined();
  });

  it('delivers INVOKE with the request id to every extension', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-normal', 'ext-listen') });
    const result = await lambda.invoke({});
    for (const name of ['ext-normal', 'ext-listen']) {
      const match = await lambda.waitForLog(new RegExp(`^fixture ${name} INVOKE (\\S+) (\\d+)$`), 5000);
      expect(match[1]).toBe(result.requestId);
      expect(Number(match[2])).toBeGreaterThan(Date.now() - 60_000);
    }
  });

  it('refuses an extension that registers under a name that is not its file name', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-wrong-name') });
    const init = await lambda.init();
    expect(init.ok).toBe(false);
    expect(init.error?.errorType).toBe('Extension.UnknownExtension');
    expect(init.error?.message).toContain('not-ext-wrong-name');
    expect(lambda.extensions[0]?.registered).toBe(false);
  });

  it('fails init with the extension error type when an extension posts init/error', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-init-error') });
    const init = await lambda.init();
    expect(init.ok).toBe(false);
    expect(init.error?.errorType).toBe('Extension.ConfigInvalid');
    expect(init.error?.message).toContain('bad config');
    expect(lambda.extensions[0]?.initError?.errorType).toBe('Extension.ConfigInvalid');
    const result = await lambda.invoke({});
    expect(result.ok).toBe(false);
    expect(result.payload).toMatchObject({ errorType: 'Extension.ConfigInvalid' });
  });

  it('fails init with Extension.TooManyExtensions when the layer holds more than 10', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `ext-normal-${i}`);
    const lambda = await emulator({ layerDir: await layerWith(...names) });
    expect(await lambda.init()).toMatchObject({
      ok: false,
      error: { errorType: 'Extension.TooManyExtensions' },
    });
    expect(lambda.extensions.every((ext) => ext.pid === undefined)).toBe(true);
  });

  it('fails init with Runtime.ImportModuleError when the handler module throws while loading', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-normal'), handler: 'broken.handler' });
    const init = await lambda.init();
    expect(init).toMatchObject({ ok: false, error: { errorType: 'Runtime.ImportModuleError' } });
    expect(init.error?.message).toContain('the module fails while loading');
  });

  it('fails init with Runtime.ImportModuleError when the handler file does not exist', async () => {
    const lambda = await emulator({ layerDir: await layerWith(), handler: 'missing.handler' });
    expect(await lambda.init()).toMatchObject({
      ok: false,
      error: { errorType: 'Runtime.ImportModuleError' },
    });
  });

  it('starts the runtime only after every extension registered when registration is slow', async () => {
    const seen: { name: string; pid: number | undefined; runtimePid: number | undefined; answer: string }[] =
      [];
    let lambda: LambdaEmulator | undefined;
    lambda = await emulator({
      layerDir: await layerWith('ext-listen', 'ext-normal'),
      handler: 'loud.handler',
      beforeRegisterResponse: async (ext) => {
        // The runtime's state, not a pause: its pid is set the moment the emulator starts it.
        const runtimePid = lambda?.runtime.pid;
        let answer = '';
        if (ext.name === 'ext-listen' && lambda !== undefined) {
          // The extension already serves while its register request is still unanswered.
          const [, port] = await lambda.waitForLog(/^fixture ext-listen listening on (\d+)$/, 5000);
          answer = await (await fetch(`http://127.0.0.1:${port}/`)).text();
        }
        seen.push({ ...ext, runtimePid, answer });
      },
    });
    const init = await lambda.init();
    expect(init.ok).toBe(true);
    expect(seen.map((ext) => ext.name).sort()).toEqual(['ext-listen', 'ext-normal']);
    expect(seen.every((ext) => typeof ext.pid === 'number')).toBe(true);
    expect(seen.map((ext) => ({ name: ext.name, runtimePid: ext.runtimePid }))).toEqual([
      { name: expect.any(String), runtimePid: undefined },
      { name: expect.any(String), runtimePid: undefined },
    ]);
    // The hook sees what the extension did before registering.
    expect(seen.find((ext) => ext.name === 'ext-listen')?.answer).toBe('ok');
    expect(lambda.runtime.pid).toEqual(expect.any(Number));
    await lambda.waitForLog(/\tINFO\truntime module loaded$/, 5000);
  });

  it('gives extensions Lambda environment without LAMBDA_TASK_ROOT and the runtime its handler', async () => {
    const lambda = await emulator({
      layerDir: await layerWith('ext-normal'),
      handler: 'env.handler',
      functionName: 'my-fn',
      memoryMb: 256,
      env: { FIXTURE_EXTRA: 'yes', AWS_REGION: 'eu-west-1' },
    });
    const result = await lambda.invoke({});
    const { env, cwd } = result.payload as { env: Record<string, string | null>; cwd: string };
    expect(env).toMatchObject({
      LAMBDA_TASK_ROOT: functionDir.replace(/\/$/, ''),
      _HANDLER: 'env.handler',
      AWS_LAMBDA_RUNTIME_API: lambda.runtimeApi,
      AWS_LAMBDA_FUNCTION_NAME: 'my-fn',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_REGION: 'eu-west-1',
      FIXTURE_EXTRA: 'yes',
    });
    expect(env.AWS_SESSION_TOKEN).toBe(lambda.sessionToken);
    expect(lambda.sessionToken).toMatch(/^local-.{20,}/);
    expect(cwd).toBe(functionDir.replace(/\/$/, ''));
    const start = await lambda.waitForLog(/^fixture ext-normal start (.*)$/, 5000);
    expect(start[1]).toContain(
      'LAMBDA_TASK_ROOT=<unset> _HANDLER=<unset> AWS_LAMBDA_FUNCTION_NAME=set AWS_SESSION_TOKEN=set FIXTURE_EXTRA=set',
    );
    expect(result.report).toContain('Memory Size: 256 MB');
  });

  it('times out the invoke and resets the environment when the handler runs past the timeout', async () => {
    const lambda = await emulator({
      layerDir: await layerWith('ext-normal'),
      handler: 'slow.handler',
      timeoutMs: 300,
    });
    const result = await lambda.invoke({ sleepMs: 5000 });
    expect(result.ok).toBe(false);
    expect(result.payload).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain(
      'Task timed out after 0.30 seconds',
    );
    expect(result.report).toContain('Status: timeout');
    await lambda.waitForLog(/^fixture ext-normal SHUTDOWN timeout /, 5000);
    const again = await lambda.invoke({ sleepMs: 1 });
    expect(again).toMatchObject({ ok: true, payload: 'finished' });
    expect(again.initDurationMs).toBeGreaterThan(0);
  });

  it('fails the invoke with Extension.Crash when an extension exits during it', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-crash-on-invoke') });
    const result = await lambda.invoke({});
    expect(result.ok).toBe(false);
    expect(result.payload).toMatchObject({ errorType: 'Extension.Crash' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain('exited with code 3');
  });

  it('fails the invoke with the posted type and records exitError when an extension posts exit/error', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-exit-error') });
    const result = await lambda.invoke({});
    expect(result.ok).toBe(false);
    expect(result.payload).toMatchObject({ errorType: 'Extension.Fatal' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain('lost its backend');
    const info = lambda.extensions[0];
    expect(info?.exitError?.errorType).toBe('Extension.Fatal');
    expect(info?.exitCode).toBe(4);
  });

  it('fails the invoke with Runtime.ExitError and re-inits when the handler exits the process', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-normal'), handler: 'exit.handler' });
    const result = await lambda.invoke({});
    expect(result.ok).toBe(false);
    expect(result.payload).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain('exited with code 7');
    await lambda.waitForLog(/^fixture ext-normal SHUTDOWN failure /, 5000);
    expect((await lambda.invoke({})).initDurationMs).toBeGreaterThan(0);
  });

  it('returns Runtime.UnhandledPromiseRejection when the handler leaves a rejection unhandled', async () => {
    const lambda = await emulator({ layerDir: await layerWith(), handler: 'reject.handler' });
    const result = await lambda.invoke({});
    expect(result.ok).toBe(false);
    expect(result.payload).toMatchObject({
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: 'nobody awaited this',
    });
  });

  it('fails init with Sandbox.Timedout naming the extension when one never registers', async () => {
    const lambda = await emulator({
      layerDir: await layerWith('ext-never-register', 'ext-normal'),
      initTimeoutMs: 1500,
    });
    const init = await lambda.init();
    expect(init).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout' } });
    expect(init.error?.message).toContain('not registered: ext-never-register');
    expect(lambda.extensions.find((ext) => ext.name === 'ext-never-register')?.signal).not.toBeNull();
  });

  it('fails init with Extension.LaunchError when an extension file is not executable', async () => {
    const layerDir = await layerWith('ext-normal');
    await chmod(join(layerDir, 'extensions', 'ext-normal'), 0o644);
    const lambda = await emulator({ layerDir });
    const init = await lambda.init();
    expect(init).toMatchObject({ ok: false, error: { errorType: 'Extension.LaunchError' } });
    expect(init.error?.message).toContain('EACCES');
  });

  it('freezes the processes between invokes when asked to', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-normal'), freezeBetweenInvokes: true });
    // `T` is a stopped process in ps's STAT column, on Linux and macOS alike.
    const state = async (pid: number | undefined): Promise<string> =>
      (await execFileAsync('ps', ['-o', 'stat=', '-p', String(pid)])).stdout.trim().charAt(0);
    expect((await lambda.invoke({ n: 1 })).ok).toBe(true);
    expect(await state(lambda.extensions[0]?.pid)).toBe('T');
    const second = await lambda.invoke({ n: 2 });
    expect(second.payload).toMatchObject({ event: { n: 2 } });
    expect(await state(lambda.extensions[0]?.pid)).toBe('T');
    expect((await lambda.shutdown()).exitCodes).toEqual({ 'ext-normal': 0 });
  });

  it('sends SHUTDOWN and collects exit codes when shut down', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-normal') });
    await lambda.invoke({});
    const result = await lambda.shutdown();
    expect(result.exitCodes).toEqual({ 'ext-normal': 0 });
    expect(result.killed).toEqual([]);
    await lambda.waitForLog(/^fixture ext-normal SHUTDOWN spindown \d+$/, 1000);
    expect(await lambda.shutdown()).toBe(result);
  });

  it('kills an extension that ignores SHUTDOWN after shutdownTimeoutMs and still resolves', async () => {
    const lambda = await emulator({
      layerDir: await layerWith('ext-ignore-shutdown', 'ext-normal'),
      shutdownTimeoutMs: 300,
    });
    expect((await lambda.init()).ok).toBe(true);
    const result = await lambda.shutdown();
    expect(result.killed).toEqual(['ext-ignore-shutdown']);
    expect(result.exitCodes).toEqual({ 'ext-ignore-shutdown': null, 'ext-normal': 0 });
    expect(lambda.extensions.find((ext) => ext.name === 'ext-ignore-shutdown')?.signal).toBe('SIGKILL');
  });

  it('answers 403 when an unknown extension identifier asks for the next event', async () => {
    const lambda = await emulator({ layerDir: await layerWith() });
    const res = await fetch(`http://${lambda.runtimeApi}/2020-01-01/extension/event/next`, {
      headers: { 'Lambda-Extension-Identifier': 'not-registered' },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ errorType: 'Extension.UnknownExtensionIdentifier' });
  });

  it('answers 400 when the runtime posts a response for a request that is not current', async () => {
    const lambda = await emulator({ layerDir: await layerWith() });
    const res = await fetch(`http://${lambda.runtimeApi}/2018-06-01/runtime/invocation/nope/response`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errorType: 'InvalidRequestID' });
  });

  it('answers 400 when an extension registers for an unknown event type', async () => {
    const lambda = await emulator({ layerDir: await layerWith() });
    const res = await fetch(`http://${lambda.runtimeApi}/2020-01-01/extension/register`, {
      method: 'POST',
      headers: { 'Lambda-Extension-Name': 'x' },
      body: JSON.stringify({ events: ['INVOKE', 'LOGS'] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errorMessage: string }).errorMessage).toContain('"LOGS"');
  });

  it('rejects pending waitForLog calls when the emulator shuts down', async () => {
    const lambda = await emulator({ layerDir: await layerWith() });
    const waiting = lambda.waitForLog(/never printed/, 10_000);
    await lambda.shutdown();
    await expect(waiting).rejects.toThrow(/before the emulator shut down/);
  });

  it('starts nothing and resolves init as failed when shut down while init begins', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-normal') });
    const init = lambda.init();
    const shutdown = await lambda.shutdown();
    expect((await init).ok).toBe(false);
    expect(shutdown.killed).toEqual([]);
    expect(
      lambda.extensions.every((ext) => ext.pid === undefined || ext.exitCode !== null || ext.signal !== null),
    ).toBe(true);
  });

  it('refuses to invoke after shutdown', async () => {
    const lambda = await emulator({ layerDir: await layerWith() });
    await lambda.shutdown();
    await expect(lambda.invoke({})).rejects.toThrow(/shut down/);
  });

  it('runs extensions that registered for no events without waiting on them', async () => {
    const lambda = await emulator({ layerDir: await layerWith('ext-no-events') });
    const result = await lambda.invoke({});
    expect(result.ok).toBe(true);
    expect(lambda.logs).toContain('EXTENSION\tName: ext-no-events\tState: Ready\tEvents: []');
  });
});

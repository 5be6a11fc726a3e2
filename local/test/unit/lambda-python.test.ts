import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { LambdaEmulator, type LambdaEmulatorOptions } from '../../src/lambda/emulator.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A function directory holding the given Python files, and an empty layer. */
async function pythonEmulator(
  files: Record<string, string>,
  opts: Partial<LambdaEmulatorOptions> & { handler: string },
): Promise<LambdaEmulator> {
  const functionDir = await tempDir('emulator-python-fn-');
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(functionDir, name, '..'), { recursive: true });
    await writeFile(join(functionDir, name), text);
  }
  const layerDir = await tempDir('emulator-python-layer-');
  await mkdir(join(layerDir, 'extensions'));
  const lambda = await LambdaEmulator.create({
    functionDir,
    layerDir,
    runtime: 'python3',
    sandbox: 'pss',
    shutdownTimeoutMs: 500,
    ...opts,
  });
  cleanups.push(() => lambda.shutdown());
  return lambda;
}

const APP = `import os

calls = 0

def handler(event, context):
    global calls
    calls += 1
    print("got", event["n"])
    return {
        "n": event["n"],
        "calls": calls,
        "requestId": context.aws_request_id,
        "function": context.function_name,
        "hasTimeLeft": context.get_remaining_time_in_millis() > 0,
        "taskRoot": os.environ["LAMBDA_TASK_ROOT"] == os.getcwd(),
    }

def fails(event, context):
    raise ValueError("no such thing")

def returns_none(event, context):
    return None
`;

describe('LambdaEmulator with the python3 runtime', { timeout: 20_000 }, () => {
  it('returns the handler result, keeps module state across invokes and logs what it prints', async () => {
    const lambda = await pythonEmulator({ 'app.py': APP }, { handler: 'app.handler' });
    const first = await lambda.invoke({ n: 1 });
    const second = await lambda.invoke({ n: 2 });
    expect(first.ok).toBe(true);
    expect(first.payload).toEqual({
      n: 1,
      calls: 1,
      requestId: first.requestId,
      function: 'local-function',
      hasTimeLeft: true,
      taskRoot: true,
    });
    expect(second.payload).toMatchObject({ n: 2, calls: 2 });
    expect(lambda.logs).toContain('got 1');
    expect(lambda.logs).toContain('got 2');
  });

  it('answers null when the handler returns None', async () => {
    const lambda = await pythonEmulator({ 'app.py': APP }, { handler: 'app.returns_none' });
    const result = await lambda.invoke({});
    expect(result.ok).toBe(true);
    expect(result.payload).toBeNull();
  });

  it('reports the exception type and message when the handler raises, and serves the next invoke', async () => {
    const lambda = await pythonEmulator({ 'app.py': APP }, { handler: 'app.fails' });
    const failed = await lambda.invoke({});
    expect(failed.ok).toBe(false);
    expect(failed.payload).toMatchObject({ errorType: 'ValueError', errorMessage: 'no such thing' });
    const again = await lambda.invoke({});
    expect(again.ok).toBe(false);
  });

  it('loads a module in a subdirectory when the handler is dir/module.function', async () => {
    const lambda = await pythonEmulator({ 'src/app.py': APP }, { handler: 'src/app.handler' });
    const result = await lambda.invoke({ n: 3 });
    expect(result.payload).toMatchObject({ n: 3, calls: 1 });
  });

  it('fails init with Runtime.ImportModuleError when the module does not exist', async () => {
    const lambda = await pythonEmulator({ 'app.py': APP }, { handler: 'missing.handler' });
    const init = await lambda.init();
    expect(init.ok).toBe(false);
    expect(init.error?.errorType).toBe('Runtime.ImportModuleError');
  });

  it('fails init with Runtime.HandlerNotFound when the module has no such function', async () => {
    const lambda = await pythonEmulator({ 'app.py': APP }, { handler: 'app.nope' });
    const init = await lambda.init();
    expect(init.ok).toBe(false);
    expect(init.error?.errorType).toBe('Runtime.HandlerNotFound');
  });

  it('rejects a runtime it does not know', async () => {
    const layerDir = await tempDir('emulator-python-layer-');
    await expect(
      LambdaEmulator.create({
        functionDir: layerDir,
        layerDir,
        handler: 'app.handler',
        runtime: 'ruby' as 'python3',
      }),
    ).rejects.toThrow(/runtime must be 'nodejs' or 'python3'/);
  });
});

describe('lambda-cache-local invoke --runtime', { timeout: 20_000 }, () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) };
  };

  it('invokes a Python handler when --runtime python3 is given', async () => {
    const functionDir = await tempDir('cli-python-fn-');
    await writeFile(join(functionDir, 'app.py'), APP);
    const layerDir = await tempDir('cli-python-layer-');
    await mkdir(join(layerDir, 'extensions'));
    const captured = io();
    const code = await runCli(
      [
        'invoke',
        '--layer',
        layerDir,
        '--function',
        functionDir,
        '--handler',
        'app.handler',
        '--runtime',
        'python3',
        '--event',
        '{"n":7}',
        '--sandbox',
        'pss',
      ],
      captured,
    );
    expect(code).toBe(0);
    expect(captured.out.some((l) => /^RESPONSE RequestId: \S+ \{"n":7,"calls":1,/.test(l))).toBe(true);
  });

  it('exits 2 naming the flag when --runtime is not nodejs or python3', async () => {
    const captured = io();
    const code = await runCli(['invoke', '--layer', '.', '--function', '.', '--runtime', 'ruby'], captured);
    expect(code).toBe(2);
    expect(captured.err[0]).toBe('lambda-cache-local: --runtime must be nodejs or python3, got "ruby"');
  });
});

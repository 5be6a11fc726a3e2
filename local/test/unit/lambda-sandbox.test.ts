import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type InvokeResult, LambdaEmulator, type LambdaEmulatorOptions } from '../../src/lambda/emulator.js';
import { maxMemoryUsedMb as sumOfPeakRss } from '../../src/lambda/report.js';
import { type CgroupSupport, cpuQuotaUs, openSandbox, probeCgroups } from '../../src/lambda/sandbox.js';

const fixtures = fileURLToPath(new URL('../fixtures/lambda/', import.meta.url));
/** The built package: the runtime bootstrap runs from it anyway, and a child process cannot load TypeScript. */
const built = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const execFileAsync = promisify(execFile);

/** Allocates (and touches) `allocateMb`, keeps it, and burns `burnCpuMs` of CPU time. */
const HANDLER = `
const kept = [];
exports.handler = async (event) => {
  for (let mb = 0; mb < (event.allocateMb ?? 0); mb += 8) kept.push(Buffer.alloc(8 * 1024 * 1024, 1));
  if (event.burnCpuMs) {
    const start = process.cpuUsage();
    const used = () => { const u = process.cpuUsage(start); return (u.user + u.system) / 1000; };
    while (used() < event.burnCpuMs) {}
  }
  return { keptMb: kept.length * 8 };
};
`;

let support: CgroupSupport;
let cgroups: boolean;
beforeAll(async () => {
  support = await probeCgroups();
  cgroups = support.ok;
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  // Every cgroup this process's emulators created is gone again.
  if (!support.ok) return;
  const { memoryParent, cpuParent } = support.layout;
  for (const parent of new Set([memoryParent, cpuParent])) {
    const ours = (await readdir(parent)).filter((name) => name.startsWith(`${process.pid}-`));
    expect(ours).toEqual([]);
  }
});

async function emulator(opts: Partial<LambdaEmulatorOptions> = {}): Promise<LambdaEmulator> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const functionDir = join(dir, 'task');
  const layerDir = join(dir, 'opt');
  await mkdir(functionDir);
  await mkdir(join(layerDir, 'extensions'), { recursive: true });
  await writeFile(join(functionDir, 'index.js'), HANDLER);
  await copyFile(join(fixtures, 'extension.cjs'), join(layerDir, 'extensions', 'ext-normal'));
  await chmod(join(layerDir, 'extensions', 'ext-normal'), 0o755);
  const lambda = await LambdaEmulator.create({
    functionDir,
    layerDir,
    handler: 'index.handler',
    shutdownTimeoutMs: 500,
    timeoutMs: 10_000,
    ...opts,
  });
  cleanups.push(() => lambda.shutdown());
  return lambda;
}

const cgroupFile = (dir: string, file: string): Promise<string> =>
  readFile(join(dir, file), 'utf8').then((text) => text.trim());

/** The CPU limit of the sandbox's cpu cgroup, as the kernel holds it: `-1`/`max` is none. */
async function cpuQuota(lambda: LambdaEmulator): Promise<string> {
  const dirs = lambda.sandbox?.cgroupDirs ?? [];
  if (!support.ok) throw new Error('no cgroups');
  if (support.layout.version === 2) return (await cgroupFile(dirs[0]!, 'cpu.max')).split(' ')[0]!;
  return cgroupFile(dirs[1]!, 'cpu.cfs_quota_us');
}

function reportedMb(result: InvokeResult): number {
  return Number(/\tMax Memory Used: (\d+) MB/.exec(result.report)?.[1]);
}

describe('the sandbox', { timeout: 30_000 }, () => {
  it('measures with the cgroup where cgroups can be created, else with PSS, and says which', async () => {
    const lambda = await emulator();
    const result = await lambda.invoke({ allocateMb: 16 });
    expect(result.ok).toBe(true);
    expect(result.memoryMethod).toBe(cgroups ? 'cgroup' : 'pss');
    expect(lambda.sandbox?.method).toBe(result.memoryMethod);
    expect(reportedMb(result)).toBe(result.maxMemoryUsedMb);
    expect(result.maxMemoryUsedMb).toBeGreaterThanOrEqual(16);
    const line = await lambda.waitForLog(/^\[emulator\] sandbox: (.*)$/, 1000);
    expect(line[1]).toContain(cgroups ? 'Max Memory Used is the cgroup peak' : 'sum of PSS');
    if (support.ok) {
      const memoryDir = lambda.sandbox!.cgroupDirs[0]!;
      expect(basename(memoryDir)).toMatch(new RegExp(`^${process.pid}-\\d+$`));
      const limit = support.layout.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
      expect(Number(await cgroupFile(memoryDir, limit))).toBe(128 * 1024 * 1024);
      // Both processes were in the cgroup from their start.
      for (const pid of [lambda.runtime.pid, lambda.extensions[0]?.pid]) {
        const membership = await readFile(`/proc/${pid}/cgroup`, 'utf8');
        expect(membership).toContain(`/lambda-cache-local/${basename(memoryDir)}\n`);
      }
    } else {
      expect(lambda.sandbox?.cgroupDirs).toEqual([]);
    }
  });

  it('counts the pages two node processes share once, so the peak is below their summed RSS', async () => {
    const lambda = await emulator();
    const result = await lambda.invoke({});
    const rss = await sumOfPeakRss([lambda.runtime.pid, lambda.extensions[0]?.pid]);
    expect(result.maxMemoryUsedMb).toBeGreaterThan(0);
    expect(result.maxMemoryUsedMb).toBeLessThan(rss);
  });

  it('ends the invoke with Runtime.OutOfMemory and re-inits when the function goes over Memory Size (cgroup), or only warns (PSS)', async () => {
    const lambda = await emulator();
    const init = await lambda.init();
    expect(init).toMatchObject({ ok: true, memoryMethod: cgroups ? 'cgroup' : 'pss' });
    expect(init.maxMemoryUsedMb).toBeGreaterThan(0);
    const result = await lambda.invoke({ allocateMb: 200 });
    if (cgroups) {
      expect(result.ok).toBe(false);
      expect(result.payload).toEqual({
        errorType: 'Runtime.OutOfMemory',
        errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: signal: killed`,
      });
      expect(result.report).toMatch(
        /\tMax Memory Used: 128 MB\t(?:Init Duration: [\d.]+ ms\t)?Status: error\tError Type: Runtime\.OutOfMemory$/,
      );
      const again = await lambda.invoke({ allocateMb: 8 });
      expect(again).toMatchObject({ ok: true, payload: { keptMb: 8 } });
      expect(again.initDurationMs).toBeGreaterThan(0);
      // A fresh sandbox: its peak starts again.
      expect(again.maxMemoryUsedMb).toBeLessThan(128);
    } else {
      expect(result).toMatchObject({ ok: true, payload: { keptMb: 200 } });
      expect(result.maxMemoryUsedMb).toBeGreaterThan(128);
      await lambda.waitForLog(/^\[emulator\] Max Memory Used \(\d+ MB, PSS\) is over Memory Size/, 1000);
    }
  });

  it('gives init the full CPU and the invokes Memory Size / 1769 of a vCPU, throttled by the kernel', async () => {
    const duringInit: string[] = [];
    let lambda: LambdaEmulator | undefined;
    lambda = await emulator({
      beforeRegisterResponse: async () => {
        if (cgroups && lambda !== undefined) duringInit.push(await cpuQuota(lambda));
      },
    });
    const result = await lambda.invoke({ burnCpuMs: 30 });
    expect(result.ok).toBe(true);
    if (support.ok) {
      expect(duringInit).toEqual([support.layout.version === 2 ? 'max' : '-1']);
      expect(await cpuQuota(lambda)).toBe(String(cpuQuotaUs(128)));
      const cpuDir = lambda.sandbox!.cgroupDirs[support.layout.version === 2 ? 0 : 1]!;
      const throttled = /^nr_throttled (\d+)$/m.exec(await cgroupFile(cpuDir, 'cpu.stat'))?.[1];
      expect(Number(throttled)).toBeGreaterThan(0);
    } else {
      expect(result.memoryMethod).toBe('pss');
      expect(lambda.sandbox?.cgroupDirs).toEqual([]);
    }
  });

  it('applies the CPU share during init too when cpuShareDuringInit is set', async () => {
    const duringInit: string[] = [];
    let lambda: LambdaEmulator | undefined;
    lambda = await emulator({
      memoryMb: 512,
      cpuShareDuringInit: true,
      beforeRegisterResponse: async () => {
        if (cgroups && lambda !== undefined) duringInit.push(await cpuQuota(lambda));
      },
    });
    expect((await lambda.init()).ok).toBe(true);
    if (cgroups) {
      expect(cpuQuotaUs(512)).toBe(28_943);
      expect(duringInit).toEqual([String(cpuQuotaUs(512))]);
      expect(await cpuQuota(lambda)).toBe(String(cpuQuotaUs(512)));
    } else {
      expect(duringInit).toEqual([]);
      expect(lambda.sandbox?.method).toBe('pss');
    }
  });

  it('limits only memory when cpuShare is off: no CPU quota during init or after it', async () => {
    const duringInit: string[] = [];
    let lambda: LambdaEmulator | undefined;
    lambda = await emulator({
      cpuShare: false,
      beforeRegisterResponse: async () => {
        if (cgroups && lambda !== undefined) duringInit.push(await cpuQuota(lambda));
      },
    });
    const result = await lambda.invoke({ burnCpuMs: 30 });
    expect(result.ok).toBe(true);
    if (support.ok) {
      const unlimited = support.layout.version === 2 ? 'max' : '-1';
      expect(duringInit).toEqual([unlimited]);
      expect(await cpuQuota(lambda)).toBe(unlimited);
      expect(result.memoryMethod).toBe('cgroup');
      const limit = support.layout.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
      expect(Number(await cgroupFile(lambda.sandbox!.cgroupDirs[0]!, limit))).toBe(128 * 1024 * 1024);
      await lambda.waitForLog(/^\[emulator\] sandbox: .*memory limit 128 MB, CPU not limited;/, 1000);
    } else {
      expect(result.memoryMethod).toBe('pss');
    }
  });

  it('removes the cgroups when the environment is reset and when the emulator shuts down', async () => {
    const lambda = await emulator({ handler: 'missing.handler' });
    const failed = await lambda.init();
    expect(failed).toMatchObject({ ok: false, error: { errorType: 'Runtime.ImportModuleError' } });
    const dirs = lambda.sandbox?.cgroupDirs ?? [];
    expect(dirs.length).toBe(cgroups ? (support.ok && support.layout.version === 2 ? 1 : 2) : 0);
    for (const dir of dirs) await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });

    const ok = await emulator();
    expect((await ok.init()).ok).toBe(true);
    const live = ok.sandbox?.cgroupDirs ?? [];
    for (const dir of live) expect((await readdir(dir)).length).toBeGreaterThan(0);
    await ok.shutdown();
    for (const dir of live) await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('measures with PSS and starts no cgroup when sandbox is pss', async () => {
    const lambda = await emulator({ sandbox: 'pss' });
    const result = await lambda.invoke({ allocateMb: 16 });
    expect(result).toMatchObject({ ok: true, memoryMethod: 'pss' });
    expect(lambda.sandbox?.cgroupDirs).toEqual([]);
    if (process.platform === 'linux') expect(result.maxMemoryUsedMb).toBeGreaterThanOrEqual(16);
    expect(await readFile(`/proc/${lambda.runtime.pid}/cgroup`, 'utf8')).not.toContain('lambda-cache-local');
  });

  it('refuses sandbox cgroup where none can be created, and accepts it where they can', async () => {
    if (cgroups) {
      const lambda = await emulator({ sandbox: 'cgroup' });
      expect((await lambda.invoke({})).memoryMethod).toBe('cgroup');
    } else {
      await expect(emulator({ sandbox: 'cgroup' })).rejects.toThrow(/sandbox 'cgroup' is not possible here/);
    }
  });
});

/** Runs an emulator from the build in a child Node process that inits, prints its sandbox, then dies `how`. */
async function crashingEmulator(how: 'throw' | 'SIGKILL'): Promise<{ dirs: string[]; pids: number[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-crash-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'opt', 'extensions'), { recursive: true });
  await copyFile(join(fixtures, 'extension.cjs'), join(dir, 'opt', 'extensions', 'ext-normal'));
  await chmod(join(dir, 'opt', 'extensions', 'ext-normal'), 0o755);
  const script = `
const { LambdaEmulator } = await import(${JSON.stringify(pathToFileURL(built).href)});
const lambda = await LambdaEmulator.create({ layerDir: ${JSON.stringify(join(dir, 'opt'))}, functionDir: ${JSON.stringify(join(fixtures, 'function'))}, handler: 'esm.handler' });
if (!(await lambda.init()).ok) process.exit(3);
console.log(JSON.stringify({ dirs: lambda.sandbox.cgroupDirs, pids: [lambda.runtime.pid, lambda.extensions[0].pid] }));
${how === 'throw' ? "setImmediate(() => { throw new Error('the emulator crashed'); });" : "process.kill(process.pid, 'SIGKILL');"}
`;
  await writeFile(join(dir, 'run.mjs'), script);
  const child = await execFileAsync(process.execPath, [join(dir, 'run.mjs')]).catch(
    (error: { stdout: string }) => error,
  );
  return JSON.parse(child.stdout) as { dirs: string[]; pids: number[] };
}

async function processState(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined ? 'gone' : stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

describe('the sandbox when the emulator itself dies', { timeout: 30_000 }, () => {
  it('kills the processes and removes the cgroups on an uncaught exception', async () => {
    const { dirs, pids } = await crashingEmulator('throw');
    expect(dirs.length).toBe(cgroups ? (support.ok && support.layout.version === 2 ? 1 : 2) : 0);
    for (const dir of dirs) await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    if (cgroups) {
      // Gone, or dead and waiting to be reaped by whoever inherited it.
      for (const pid of pids) expect(await processState(pid)).toMatch(/^(?:gone|Z|X)$/);
    }
  });

  it('removes what a SIGKILLed emulator left behind when the next sandbox opens', async () => {
    const { dirs } = await crashingEmulator('SIGKILL');
    const next = await openSandbox('auto', support, {
      memoryMb: 128,
      cpuShareDuringInit: false,
      cpuShare: true,
    });
    cleanups.push(() => next.dispose());
    expect(next.method).toBe(cgroups ? 'cgroup' : 'pss');
    for (const dir of dirs) await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('openSandbox', () => {
  it('falls back to PSS under auto and throws under cgroup when the cgroup root is missing', async () => {
    const missing = await probeCgroups(join(tmpdir(), 'no-such-cgroup-root'));
    expect(missing.ok).toBe(false);
    const sandbox = await openSandbox('auto', missing, {
      memoryMb: 128,
      cpuShareDuringInit: false,
      cpuShare: true,
    });
    expect(sandbox.method).toBe('pss');
    expect(sandbox.description).toContain('no-such-cgroup-root');
    await sandbox.dispose();
    await expect(
      openSandbox('cgroup', missing, { memoryMb: 128, cpuShareDuringInit: false, cpuShare: true }),
    ).rejects.toThrow(/sandbox 'cgroup'/);
  });

  it('computes the CPU quota as Memory Size / 1769 MB of a 100 ms period, at least 1 ms', () => {
    expect(cpuQuotaUs(128)).toBe(7236);
    expect(cpuQuotaUs(1769)).toBe(100_000);
    expect(cpuQuotaUs(10_240)).toBe(578_858);
    expect(cpuQuotaUs(1)).toBe(1000);
  });
});

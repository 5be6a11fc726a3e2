/** Child processes the orchestrator starts, and what it reads about them (start-up times, RSS). */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { LatencyArgs, LatencyResult, LoadArgs, LoadResult, Reply } from './protocol.js';

/** The AWS SDK's notice about future Node versions is noise in every measuring process. */
export const QUIET_SDK = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } as const;

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** Resolves with the first message of a child, or rejects if it exits or takes longer than `timeoutMs`. */
function firstMessage<T>(child: ChildProcess, what: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: T) => {
      cleanup();
      resolve(m);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what} exited with ${code} before it was ready`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Stops a child by its pid: disconnect, then SIGTERM if it lingers, then SIGKILL. */
export async function stop(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill('SIGTERM'), graceMs);
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs * 2);
  await exited;
  clearTimeout(timer);
  clearTimeout(killer);
}

/** The measuring worker: load generator and per-call latency timer, in its own process. */
export class Worker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`worker: ${m.error}`));
    });
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`worker exited with ${code}`));
      this.pending.clear();
    });
  }

  static async start(env: Record<string, string>): Promise<Worker> {
    const child = fork(here('./worker.js'), [], {
      env: { ...process.env, ...QUIET_SDK, ...env },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await firstMessage(child, 'the worker', 30_000);
    return new Worker(child);
  }

  private send<T>(task: string, args: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, task, args });
    });
  }

  load(args: LoadArgs): Promise<LoadResult> {
    return this.send('load', args);
  }

  latency(args: LatencyArgs): Promise<LatencyResult> {
    return this.send('latency', args);
  }

  close(): Promise<void> {
    return stop(this.child);
  }
}

/** A bare `node:http` server answering `body` to everything, in its own process. */
export async function startBareServer(
  body: string,
  execArgv: readonly string[] = [],
): Promise<{ port: number; close: () => Promise<void> }> {
  const child = fork(here('./bare-server.js'), [], {
    execArgv: [...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const started = firstMessage<{ port: number }>(child, 'the bare server', 10_000);
  child.send({ body });
  const { port } = await started;
  return { port, close: () => stop(child) };
}

/** `node -e 0`: spawn to exit, the floor of any Node process start. */
export function nodeE0Ms(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`node -e 0 exited with ${code}`));
    });
  });
}

/** Resident set size of a process, in MiB (Linux `/proc`). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/**
 * Private memory (USS) of a process, in MiB: `Private_Clean + Private_Dirty` of `/proc/PID/smaps_rollup`,
 * the pages only this process holds, so Node's shared code pages (which Lambda's runtime maps too) are
 * not counted against the extension.
 */
export function ussMiB(pid: number): number {
  return parseUssKb(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')) / 1024;
}

/** `Private_Clean + Private_Dirty` in kB from the text of an `smaps_rollup` file. */
export function parseUssKb(rollup: string): number {
  const clean = /^Private_Clean:\s+(\d+)\s+kB/m.exec(rollup);
  const dirty = /^Private_Dirty:\s+(\d+)\s+kB/m.exec(rollup);
  if (!clean || !dirty) throw new Error('smaps_rollup has no Private_Clean/Private_Dirty lines');
  return Number(clean[1]) + Number(dirty[1]);
}

/** Peak resident set size (`VmHWM`) of a process so far, in MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(match[1]) / 1024;
}

let clockTicks: number | undefined;

/** Clock ticks per second of `/proc/PID/stat` times (`getconf CLK_TCK`, 100 on every Linux seen). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime (fields 14 and 15) of a `/proc/PID/stat` line, in ticks; the name may hold spaces or `)`. */
export function parseStatTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unreadable /proc/PID/stat');
  return utime + stime;
}

/** The first field of a `/proc/PID/task/TID/schedstat` line: the thread's time on a CPU, in ns. */
export function parseSchedstatNs(schedstat: string): number {
  const ns = Number(schedstat.split(' ')[0]);
  if (!Number.isFinite(ns)) throw new Error('unreadable schedstat');
  return ns;
}

/**
 * CPU time (user + system, every thread) a process has used so far, in ms: the sum of its threads'
 * `schedstat` runtimes, which the kernel keeps in nanoseconds. `/proc/PID/stat` has the same time in
 * clock ticks (10 ms at 100 Hz), with utime and stime each rounded down, so it reads up to 20 ms low;
 * it is the fallback where no thread's schedstat can be read. A thread that has exited is not counted
 * (nor one that exits while they are read); at the moments measured here (a process blocked on
 * `event/next`) Node has ended none.
 */
export function cpuMs(pid: number): number {
  let ns = 0;
  let threads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let line: string;
    try {
      line = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
    } catch {
      continue;
    }
    ns += parseSchedstatNs(line);
    threads++;
  }
  if (threads > 0) return ns / 1e6;
  return (parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / ticksPerSecond();
}

/** A port that was free a moment ago, for a process that must be told its port before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The Node process behind a pid: itself, or (when the pid is a shell launcher) its first Node descendant. */
export function nodePidOf(pid: number): number {
  let current = pid;
  for (let depth = 0; depth < 4; depth++) {
    let comm = '';
    try {
      comm = readFileSync(`/proc/${current}/comm`, 'utf8').trim();
    } catch {
      return pid;
    }
    if (comm === 'node' || comm.startsWith('node')) return current;
    const next = children(current)[0];
    if (next === undefined) return current;
    current = next;
  }
  return current;
}

/**
 * RSS of a Node process that ran `setup` (ESM, resolved from `cwd`) and sits idle; with no `setup`, a
 * bare Node process.
 */
export async function idleNodeRssMiB(settleMs: number, setup = '', cwd?: string): Promise<number> {
  const source = `${setup}\nprocess.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...QUIET_SDK },
    ...(cwd ? { cwd } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the idle node process did not start')), 30_000);
      child.once('exit', (code) => reject(new Error(`the idle node process exited with ${code}`)));
      child.stdout?.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await sleep(settleMs);
    return rssMiB(child.pid as number);
  } finally {
    child.kill('SIGTERM');
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Environment that makes the layer's launcher start Node with extra flags (Node refuses `--cpu-prof` and
 * others in `NODE_OPTIONS`): a wrapper script in `dir`, named by `LAMBDA_CACHE_NODE`, the launcher's override.
 */
export function nodeFlagsEnv(dir: string, flags: readonly string[]): Record<string, string> {
  const wrapper = join(dir, 'node-with-flags.sh');
  const quoted = flags.map((f) => `'${f.replace(/'/g, "'\\''")}'`).join(' ');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' ${quoted} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return { LAMBDA_CACHE_NODE: wrapper };
}

/** {@link nodeFlagsEnv} with `--cpu-prof`, profiles written to `dir`. */
export function cpuProfileEnv(dir: string): Record<string, string> {
  return nodeFlagsEnv(dir, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
}

import { accessSync, constants, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The sandbox of one execution environment: the runtime and the extensions, measured (and, with cgroups,
 * limited) the way Lambda measures a sandbox. The emulator and the backends stay outside it.
 *
 * - `cgroup`: a memory cgroup limited to Memory Size (going over is an OOM kill, `Runtime.OutOfMemory`)
 *   and a CPU cgroup with Memory Size / 1769 MB of one vCPU after init; `Max Memory Used` is the cgroup's
 *   peak, in which a page shared by two processes (the `node` binary) counts once.
 * - `pss`: where no cgroup can be created, the sum of the processes' PSS (proportional set size: a shared
 *   page is split among the processes sharing it), sampled; no limit is enforced.
 */
export type SandboxMode = 'auto' | 'cgroup' | 'pss';
export type MemoryMethod = 'cgroup' | 'pss';

/** Lambda allocates CPU in proportion to memory: 1769 MB is one full vCPU. */
export const MB_PER_VCPU = 1769;
const CFS_PERIOD_US = 100_000;
/** The kernel refuses a smaller CFS quota. */
const MIN_QUOTA_US = 1_000;
const PARENT = 'lambda-cache-local';
const PSS_SAMPLE_MS = 100;
const MB = 1024 * 1024;

export interface SandboxOptions {
  readonly memoryMb: number;
  /** Apply the CPU share during init as well (on-demand Lambda inits at full CPU). */
  readonly cpuShareDuringInit: boolean;
  /** Limit the CPU at all; off, only memory is limited. */
  readonly cpuShare: boolean;
}

export interface Sandbox {
  readonly method: MemoryMethod;
  /** One line for the log: the method and its limits. */
  readonly description: string;
  /** The cgroup directories (one per controller in v1, one in v2); empty for `pss`. */
  readonly cgroupDirs: readonly string[];
  /** The command line that starts `command` already inside the sandbox. */
  launch(command: string, args: readonly string[]): { command: string; args: string[] };
  /** A process of the sandbox was started (its descendants belong to it too). */
  add(pid: number | undefined): void;
  /** Init is over: from now on the function gets its share of a vCPU. */
  endInit(): Promise<void>;
  /** The peak so far, in MB rounded up, as Lambda reports it for the sandbox. */
  maxMemoryUsedMb(): Promise<number>;
  /** Whether the kernel killed a process of the sandbox for going over the memory limit. */
  outOfMemory(): boolean;
  /** Kills what is left in the sandbox and removes its cgroups. Idempotent. */
  dispose(): Promise<void>;
}

/** The CFS quota for `memoryMb`: Memory Size / 1769 MB of one vCPU, per 100 ms period. */
export function cpuQuotaUs(memoryMb: number): number {
  return Math.max(MIN_QUOTA_US, Math.round((memoryMb / MB_PER_VCPU) * CFS_PERIOD_US));
}

interface CgroupLayout {
  readonly version: 1 | 2;
  /** v1: the memory and cpu hierarchies' `lambda-cache-local` directories; v2: the one directory. */
  readonly memoryParent: string;
  readonly cpuParent: string;
}

/** Why cgroups cannot be used here, or how to use them. */
export type CgroupSupport =
  | { readonly ok: true; readonly layout: CgroupLayout }
  | { readonly ok: false; readonly reason: string };

async function writable(path: string): Promise<boolean> {
  return access(path, constants.W_OK).then(
    () => true,
    () => false,
  );
}

/**
 * Finds a writable cgroup hierarchy with the memory and cpu controllers under `root` and creates the
 * `lambda-cache-local` parent(s). v2 when `root/cgroup.controllers` exists, else v1's `memory/` and `cpu/`.
 */
export async function probeCgroups(root = '/sys/fs/cgroup'): Promise<CgroupSupport> {
  if (process.platform !== 'linux') return { ok: false, reason: 'cgroups exist only on Linux' };
  try {
    const controllers = await readFile(join(root, 'cgroup.controllers'), 'utf8').catch(() => undefined);
    if (controllers !== undefined) {
      const available = controllers.trim().split(/\s+/);
      for (const needed of ['memory', 'cpu']) {
        if (!available.includes(needed)) {
          return { ok: false, reason: `cgroup v2 at ${root} has no ${needed} controller` };
        }
      }
      if (!(await writable(join(root, 'cgroup.subtree_control')))) {
        return { ok: false, reason: `${root} is not writable (not root, or mounted read-only)` };
      }
      // Children of the parent get the controllers only when each level enables them for its children.
      await writeFile(join(root, 'cgroup.subtree_control'), '+memory +cpu');
      const parent = join(root, PARENT);
      await mkdir(parent, { recursive: true });
      await writeFile(join(parent, 'cgroup.subtree_control'), '+memory +cpu');
      return { ok: true, layout: { version: 2, memoryParent: parent, cpuParent: parent } };
    }
    const memory = join(root, 'memory');
    const cpu = join(root, 'cpu');
    for (const [dir, file] of [
      [memory, 'memory.limit_in_bytes'],
      [cpu, 'cpu.cfs_quota_us'],
    ] as const) {
      if ((await readFile(join(dir, file)).catch(() => undefined)) === undefined) {
        return { ok: false, reason: `no cgroup v1 ${file} under ${dir}` };
      }
      if (!(await writable(dir))) {
        return { ok: false, reason: `${dir} is not writable (not root, or mounted read-only)` };
      }
    }
    await mkdir(join(memory, PARENT), { recursive: true });
    await mkdir(join(cpu, PARENT), { recursive: true });
    return {
      ok: true,
      layout: { version: 1, memoryParent: join(memory, PARENT), cpuParent: join(cpu, PARENT) },
    };
  } catch (error) {
    return { ok: false, reason: `cannot create cgroups under ${root}: ${(error as Error).message}` };
  }
}

let counter = 0;
/** Sandboxes with cgroups not yet removed; removed synchronously if this process exits without disposing them. */
const live = new Set<CgroupSandbox>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const sandbox of live) sandbox.disposeSync();
  });
}

function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the cgroups a killed emulator left behind (`<pid>-<n>` of a pid that no longer runs), and the
 * orphaned sandbox processes still in them.
 */
async function sweepStale(parent: string): Promise<void> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const match = /^(\d+)-\d+$/.exec(entry.name);
    if (!entry.isDirectory() || match === null || alive(Number(match[1]))) continue;
    const dir = join(parent, entry.name);
    for (let attempt = 0; attempt < 10; attempt++) {
      killAll(dir);
      if (
        await rmdir(dir).then(
          () => true,
          (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
        )
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function killAll(dir: string): void {
  for (const pid of pidsIn(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** `oom_kill N` in v1's `memory.oom_control` and v2's `memory.events`. */
function oomKills(text: string): number {
  return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
}

class CgroupSandbox implements Sandbox {
  readonly method = 'cgroup';
  readonly description: string;
  readonly cgroupDirs: readonly string[];
  readonly #layout: CgroupLayout;
  readonly #memoryDir: string;
  readonly #cpuDir: string;
  readonly #opts: SandboxOptions;
  #disposed: Promise<void> | undefined;
  #currentPeak = 0;

  constructor(layout: CgroupLayout, name: string, opts: SandboxOptions) {
    this.#layout = layout;
    this.#opts = opts;
    this.#memoryDir = join(layout.memoryParent, name);
    this.#cpuDir = join(layout.cpuParent, name);
    this.cgroupDirs = layout.version === 2 ? [this.#memoryDir] : [this.#memoryDir, this.#cpuDir];
    const share = (opts.memoryMb / MB_PER_VCPU).toFixed(3);
    const cpu = !opts.cpuShare
      ? 'CPU not limited'
      : `CPU ${share} vCPU ${opts.cpuShareDuringInit ? 'from the start' : 'after init (init at full CPU)'}`;
    this.description =
      `sandbox: cgroup v${layout.version} ${name}, memory limit ${opts.memoryMb} MB, ${cpu}; ` +
      'Max Memory Used is the cgroup peak';
  }

  async create(): Promise<void> {
    const { memoryMb, cpuShareDuringInit, cpuShare } = this.#opts;
    const bytes = String(memoryMb * MB);
    for (const dir of this.cgroupDirs) await mkdir(dir);
    live.add(this);
    installExitHook();
    if (this.#layout.version === 2) {
      await writeFile(join(this.#memoryDir, 'memory.max'), bytes);
      // Lambda has no swap: going over the limit must be an OOM kill, not a swap-out.
      await writeFile(join(this.#memoryDir, 'memory.swap.max'), '0').catch(() => undefined);
    } else {
      await writeFile(join(this.#memoryDir, 'memory.limit_in_bytes'), bytes);
      // Only with swap accounting on; the limit is memory plus swap, so equal means no swap.
      await writeFile(join(this.#memoryDir, 'memory.memsw.limit_in_bytes'), bytes).catch(() => undefined);
      await writeFile(join(this.#memoryDir, 'memory.swappiness'), '0').catch(() => undefined);
    }
    await this.#setCpuQuota(cpuShare && cpuShareDuringInit ? cpuQuotaUs(memoryMb) : undefined);
  }

  async #setCpuQuota(quotaUs: number | undefined): Promise<void> {
    if (this.#layout.version === 2) {
      await writeFile(join(this.#cpuDir, 'cpu.max'), `${quotaUs ?? 'max'} ${CFS_PERIOD_US}`);
    } else {
      await writeFile(join(this.#cpuDir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
      await writeFile(join(this.#cpuDir, 'cpu.cfs_quota_us'), String(quotaUs ?? -1));
    }
  }

  /**
   * The process joins the cgroups itself, through a shell that writes its own pid and then execs the
   * command: everything the command allocates, from its first page, is charged to the sandbox. Moving
   * the pid after spawn would race the child, and in v1 what it allocated before the move stays charged
   * to the old cgroup.
   */
  launch(command: string, args: readonly string[]): { command: string; args: string[] } {
    const script = 'for f; do shift; [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; exec "$@"';
    const procs = this.cgroupDirs.map((dir) => join(dir, 'cgroup.procs'));
    return { command: '/bin/sh', args: ['-c', script, 'lambda-sandbox', ...procs, '--', command, ...args] };
  }

  add(): void {
    // The kernel tracks membership, descendants included.
  }

  async endInit(): Promise<void> {
    const { memoryMb, cpuShareDuringInit, cpuShare } = this.#opts;
    if (cpuShare && !cpuShareDuringInit) await this.#setCpuQuota(cpuQuotaUs(memoryMb));
  }

  async maxMemoryUsedMb(): Promise<number> {
    const read = (file: string): Promise<number | undefined> =>
      readFile(join(this.#memoryDir, file), 'utf8').then(
        (text) => Number(text.trim()),
        () => undefined,
      );
    let bytes: number | undefined;
    if (this.#layout.version === 1) bytes = await read('memory.max_usage_in_bytes');
    else {
      // memory.peak exists from Linux 5.19; before it, the usage when asked is the best there is.
      bytes = await read('memory.peak');
      if (bytes === undefined) {
        this.#currentPeak = Math.max(this.#currentPeak, (await read('memory.current')) ?? 0);
        bytes = this.#currentPeak;
      }
    }
    return Math.ceil((bytes ?? 0) / MB);
  }

  outOfMemory(): boolean {
    const file = this.#layout.version === 2 ? 'memory.events' : 'memory.oom_control';
    try {
      return oomKills(readFileSync(join(this.#memoryDir, file), 'utf8')) > 0;
    } catch {
      return false;
    }
  }

  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      for (let attempt = 0; attempt < 50; attempt++) {
        this.#killRemaining();
        const left = [];
        for (const dir of this.cgroupDirs) {
          await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') left.push(dir);
          });
        }
        if (left.length === 0) break;
        // A killed process leaves its cgroup only once the kernel has torn it down.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      live.delete(this);
    })();
    return this.#disposed;
  }

  /** For `process.on('exit')`, where nothing asynchronous runs any more. */
  disposeSync(): void {
    const until = Date.now() + 500;
    for (;;) {
      this.#killRemaining();
      let left = 0;
      for (const dir of this.cgroupDirs) {
        try {
          rmdirSync(dir);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') left++;
        }
      }
      if (left === 0 || Date.now() > until) break;
    }
    live.delete(this);
  }

  #killRemaining(): void {
    killAll(this.#memoryDir);
  }

  static async sweep(layout: CgroupLayout): Promise<void> {
    await sweepStale(layout.memoryParent);
    if (layout.cpuParent !== layout.memoryParent) await sweepStale(layout.cpuParent);
  }
}

/** The pids of `pid`'s descendants, through `/proc/<pid>/task/<tid>/children`. */
function descendants(pid: number, into: Set<number>): void {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tasks) {
    let children: string;
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ')) {
      const childPid = Number(child);
      if (child.trim() === '' || into.has(childPid)) continue;
      into.add(childPid);
      descendants(childPid, into);
    }
  }
}

/** `Pss:` of `/proc/<pid>/smaps_rollup`, in kB; 0 when the process is gone or the file does not exist. */
async function pssKb(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Pss:\s+(\d+) kB$/m.exec(text)?.[1] ?? 0);
}

class PssSandbox implements Sandbox {
  readonly method = 'pss';
  readonly description: string;
  readonly cgroupDirs: readonly string[] = [];
  readonly #leaders = new Set<number>();
  readonly #timer: NodeJS.Timeout;
  #peakKb = 0;
  #sampling: Promise<void> | undefined;

  constructor(reason: string) {
    this.description = `sandbox: no cgroup (${reason}); no memory or CPU limit; Max Memory Used is the sum of PSS over the sandbox's processes, sampled every ${PSS_SAMPLE_MS} ms`;
    this.#timer = setInterval(() => void this.#sample(), PSS_SAMPLE_MS).unref();
  }

  launch(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command, args: [...args] };
  }

  add(pid: number | undefined): void {
    if (pid !== undefined) this.#leaders.add(pid);
  }

  async endInit(): Promise<void> {
    await this.#sample();
  }

  async maxMemoryUsedMb(): Promise<number> {
    await this.#sample();
    return Math.ceil(this.#peakKb / 1024);
  }

  outOfMemory(): boolean {
    return false;
  }

  async dispose(): Promise<void> {
    clearInterval(this.#timer);
  }

  /** One sample at a time; a caller that arrives during one waits for it and takes the next. */
  #sample(): Promise<void> {
    const run = async (): Promise<void> => {
      const pids = new Set<number>();
      for (const leader of this.#leaders) {
        pids.add(leader);
        descendants(leader, pids);
      }
      let kb = 0;
      for (const pid of pids) kb += await pssKb(pid);
      this.#peakKb = Math.max(this.#peakKb, kb);
    };
    const previous = this.#sampling ?? Promise.resolve();
    const next = previous.then(run, run).finally(() => {
      if (this.#sampling === next) this.#sampling = undefined;
    });
    this.#sampling = next;
    return next;
  }
}

/**
 * The sandbox for a new execution environment. `support` is {@link probeCgroups}'s answer; when it
 * allows cgroups but creating them fails, `auto` falls back to PSS and `cgroup` throws.
 */
export async function openSandbox(
  mode: SandboxMode,
  support: CgroupSupport | undefined,
  opts: SandboxOptions,
): Promise<Sandbox> {
  if (mode === 'pss') return new PssSandbox("the 'pss' method was asked for");
  if (support === undefined || !support.ok) {
    const reason = support?.reason ?? 'cgroups were not probed';
    if (mode === 'cgroup') throw new Error(`sandbox 'cgroup': ${reason}`);
    return new PssSandbox(reason);
  }
  await CgroupSandbox.sweep(support.layout);
  const sandbox = new CgroupSandbox(support.layout, `${process.pid}-${++counter}`, opts);
  try {
    await sandbox.create();
    return sandbox;
  } catch (error) {
    await sandbox.dispose();
    const reason = `cannot create the sandbox's cgroups: ${(error as Error).message}`;
    if (mode === 'cgroup') throw new Error(`sandbox 'cgroup': ${reason}`);
    return new PssSandbox(reason);
  }
}

/** Whether `command` can be executed; the shell that starts a process in a cgroup would only exit 126. */
export function executableError(command: string): NodeJS.ErrnoException | undefined {
  try {
    accessSync(command, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EACCES';
    return Object.assign(new Error(`spawn ${command} ${code}`), {
      code,
      errno: (error as NodeJS.ErrnoException).errno,
      path: command,
      syscall: `spawn ${command}`,
    });
  }
}

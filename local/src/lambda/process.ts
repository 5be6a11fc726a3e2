import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { executableError } from './sandbox.js';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES, …). */
  readonly spawnError?: Error;
}

export interface SpawnOptions {
  readonly command: string;
  readonly args?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Every line the process writes to stdout or stderr, without its line ending. */
  readonly onLine: (line: string) => void;
  /**
   * Rewrites the command line, e.g. to start the process inside a cgroup through a wrapper that ends in
   * `exec`; the command is then checked for being executable first, so that a file that cannot be run is
   * still a spawn error (`EACCES`, `ENOENT`) rather than the wrapper's exit code.
   */
  readonly launch?: (command: string, args: readonly string[]) => { command: string; args: string[] };
}

/**
 * A process of the execution environment (the runtime or an extension). Each one leads its own process
 * group, so a launcher script and whatever it starts are stopped together, as Lambda stops the whole
 * sandbox.
 */
export class ManagedProcess {
  readonly #child: ChildProcess | undefined;
  readonly exited: Promise<ChildExit>;
  #exit: ChildExit | undefined;

  constructor(opts: SpawnOptions) {
    if (opts.launch !== undefined) {
      const error = executableError(opts.command);
      if (error !== undefined) {
        this.#exit = { code: null, signal: null, spawnError: error };
        this.exited = Promise.resolve(this.#exit);
        return;
      }
    }
    const { command, args } = opts.launch?.(opts.command, opts.args ?? []) ?? {
      command: opts.command,
      args: opts.args ?? [],
    };
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', opts.onLine);
    }
    this.exited = new Promise<ChildExit>((resolve) => {
      child.once('error', (error) => {
        // 'error' without a pid means spawn failed; with a pid it is a failed kill, and 'exit' still comes.
        if (child.pid !== undefined) return;
        this.#exit = { code: null, signal: null, spawnError: error };
        resolve(this.#exit);
      });
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** `undefined` while the process runs. */
  get exit(): ChildExit | undefined {
    return this.#exit;
  }

  /**
   * Signals the whole process group, even after its leader exited (a launcher that forked leaves its
   * children in the group); a group that is already gone is not an error.
   */
  kill(signal: NodeJS.Signals): void {
    const child = this.#child;
    const pid = child?.pid;
    if (child === undefined || pid === undefined) return;
    try {
      if (process.platform === 'win32') child.kill(signal);
      else process.kill(-pid, signal);
    } catch {
      if (this.#exit !== undefined) return;
      try {
        child.kill(signal);
      } catch {
        // Exited between the check and the signal.
      }
    }
  }
}

/** Describes an exit for a log line or an error message. */
export function describeExit(exit: ChildExit): string {
  if (exit.spawnError !== undefined) return `could not be started: ${exit.spawnError.message}`;
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

/**
 * The emulator's sandbox options and memory figures, in one place. `LambdaEmulatorOptions` gains
 * `sandbox` and `cpuShareDuringInit`, `InvokeResult` / `InitResult` gain `maxMemoryUsedMb` and
 * `memoryMethod`; an emulator built before them ignores the options and lacks the fields. The benchmark
 * works with both: it passes the options through a cast, reads the fields when they are there, and
 * otherwise takes `Max Memory Used` from the REPORT line and says how the emulator measured it.
 */
import type { InitResult, InvokeResult, LambdaEmulatorOptions } from '@lambda-cache/local';

/** The emulator's sandbox options, declared here so this compiles against an emulator without them. */
export interface SandboxOptions {
  /** `cgroup`: a cgroup with Memory Size as its limit; `pss`: summed PSS; `auto`: a cgroup where allowed. */
  readonly sandbox?: 'auto' | 'cgroup' | 'pss';
  /** Apply Memory Size / 1769 MB of a vCPU during init too, not only after it (needs a cgroup). */
  readonly cpuShareDuringInit?: boolean;
}

/** What an emulator with the sandbox adds to an init's or an invoke's result. */
interface SandboxFields {
  readonly maxMemoryUsedMb?: number;
  readonly memoryMethod?: 'cgroup' | 'pss';
}

/** `opts` with the sandbox options, typed so the emulator of today accepts them (it ignores them). */
export function withSandbox(opts: LambdaEmulatorOptions, sandbox: SandboxOptions): LambdaEmulatorOptions {
  return { ...opts, ...sandbox } as LambdaEmulatorOptions & SandboxOptions;
}

/** How the emulator measured memory: its `memoryMethod`, or `undefined` when it predates the sandbox. */
export function memoryMethodOf(result: InitResult | InvokeResult): 'cgroup' | 'pss' | undefined {
  return (result as (InitResult | InvokeResult) & SandboxFields).memoryMethod;
}

/** Without `memoryMethod`, the emulator's REPORT line sums the processes' peak RSS (`VmHWM`). */
export const LEGACY_MEMORY_METHOD = 'vmhwm';

const MAX_MEMORY = /Max Memory Used: (\d+(?:\.\d+)?) MB/;

/** `Max Memory Used` of an invoke (MB, as Lambda rounds it) and how it was measured. */
export function maxMemoryUsed(result: InvokeResult): { mb: number; method: string } {
  const fields = result as InvokeResult & SandboxFields;
  const method = fields.memoryMethod ?? LEGACY_MEMORY_METHOD;
  if (typeof fields.maxMemoryUsedMb === 'number') return { mb: fields.maxMemoryUsedMb, method };
  const match = MAX_MEMORY.exec(result.report);
  if (!match) throw new Error(`no Max Memory Used in the REPORT line: ${result.report}`);
  return { mb: Number(match[1]), method };
}

/** In words, for a target's detail: what the sandbox was, and whether a CPU share could apply. */
export function describeSandbox(method: string | undefined, cpuShareAsked: boolean): string {
  if (method === undefined || method === LEGACY_MEMORY_METHOD) {
    return cpuShareAsked
      ? 'the emulator has no sandbox options yet: cpuShareDuringInit was ignored, init ran at full CPU'
      : 'the emulator has no sandbox options yet';
  }
  if (method === 'pss') {
    return cpuShareAsked
      ? 'sandbox pss (no cgroup on this machine): no CPU share could be applied, init ran at full CPU'
      : 'sandbox pss (no cgroup on this machine)';
  }
  return cpuShareAsked ? 'sandbox cgroup, the 128 MB CPU share applied during init' : 'sandbox cgroup';
}

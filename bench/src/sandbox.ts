/**
 * The emulator's sandbox (cgroup, or summed PSS where no cgroup can be made) as the cold-start sections
 * use it: which options a run asks for, and how the result says memory was measured.
 */
import type { LambdaEmulatorOptions } from '@lambda-cache/local';

/** The sandbox options a cold-start run passes to the emulator (Memory Size is its limit). */
export type SandboxOptions = Pick<
  LambdaEmulatorOptions,
  'sandbox' | 'cpuShareDuringInit' | 'cpuShare' | 'memoryMb'
>;

/** In words, for a target's detail: what the sandbox was, and whether a CPU share could apply. */
export function describeSandbox(method: 'cgroup' | 'pss', cpuShareAsked: boolean): string {
  if (method === 'pss') {
    return cpuShareAsked
      ? 'sandbox pss (no cgroup on this machine): no CPU share could be applied, init ran at full CPU'
      : 'sandbox pss (no cgroup on this machine)';
  }
  return cpuShareAsked ? 'sandbox cgroup, the 128 MB CPU share applied during init' : 'sandbox cgroup';
}

import { readFile } from 'node:fs/promises';

/** Lambda's log lines around each invoke, as CloudWatch shows them. */

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export function extensionLine(
  name: string,
  state: 'Ready' | 'LaunchError' | 'InitError' | 'Crash',
  events: readonly string[],
): string {
  return `EXTENSION\tName: ${name}\tState: ${state}\tEvents: [${events.join(', ')}]`;
}

export interface ReportFields {
  readonly requestId: string;
  readonly durationMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  /** Only on the first invoke of an environment. */
  readonly initDurationMs?: number;
  /** `timeout` or `error` when the invoke did not complete normally (Lambda adds `Status:`). */
  readonly status?: 'timeout' | 'error';
  /** With `status: 'error'`: Lambda's error type, e.g. `Runtime.OutOfMemory`. */
  readonly errorType?: string;
}

export function reportLine(fields: ReportFields): string {
  const parts = [
    `REPORT RequestId: ${fields.requestId}`,
    `Duration: ${fields.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.max(1, Math.ceil(fields.durationMs))} ms`,
    `Memory Size: ${fields.memorySizeMb} MB`,
    `Max Memory Used: ${fields.maxMemoryUsedMb} MB`,
  ];
  if (fields.initDurationMs !== undefined)
    parts.push(`Init Duration: ${fields.initDurationMs.toFixed(2)} ms`);
  if (fields.status !== undefined) parts.push(`Status: ${fields.status}`);
  if (fields.status === 'error' && fields.errorType !== undefined)
    parts.push(`Error Type: ${fields.errorType}`);
  return parts.join('\t');
}

/**
 * The peak resident memory (`VmHWM`) of the given processes, summed, in MB, rounded up as Lambda does.
 * Where `/proc` does not exist (macOS), or a process is gone, it counts as 0.
 */
export async function maxMemoryUsedMb(pids: readonly (number | undefined)[]): Promise<number> {
  let kb = 0;
  for (const pid of pids) {
    if (pid === undefined) continue;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
      if (match?.[1] !== undefined) kb += Number(match[1]);
    } catch {
      // Exited or not Linux.
    }
  }
  return Math.ceil(kb / 1024);
}

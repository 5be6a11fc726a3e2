import { describe, expect, it } from 'vitest';
import { endLine, extensionLine, maxMemoryUsedMb, reportLine, startLine } from '../../src/lambda/report.js';

describe('reportLine', () => {
  it('formats the fields as Lambda does, tab separated, with Init Duration last when given', () => {
    expect(
      reportLine({
        requestId: 'r1',
        durationMs: 1.234,
        memorySizeMb: 128,
        maxMemoryUsedMb: 80,
        initDurationMs: 123.456,
      }),
    ).toBe(
      'REPORT RequestId: r1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 80 MB\tInit Duration: 123.46 ms',
    );
  });

  it('omits Init Duration and bills at least 1 ms when the invoke was warm and instant', () => {
    const line = reportLine({ requestId: 'r2', durationMs: 0.01, memorySizeMb: 256, maxMemoryUsedMb: 0 });
    expect(line).toContain('Billed Duration: 1 ms');
    expect(line).not.toContain('Init Duration');
  });

  it('adds the status when the invoke timed out', () => {
    expect(
      reportLine({
        requestId: 'r3',
        durationMs: 3000,
        memorySizeMb: 128,
        maxMemoryUsedMb: 1,
        status: 'timeout',
      }),
    ).toMatch(/\tStatus: timeout$/);
  });
});

describe('lifecycle lines', () => {
  it('match the CloudWatch text of START, END and EXTENSION', () => {
    expect(startLine('r', '$LATEST')).toBe('START RequestId: r Version: $LATEST');
    expect(endLine('r')).toBe('END RequestId: r');
    expect(extensionLine('lambda-cache', 'Ready', ['INVOKE', 'SHUTDOWN'])).toBe(
      'EXTENSION\tName: lambda-cache\tState: Ready\tEvents: [INVOKE, SHUTDOWN]',
    );
  });
});

describe('maxMemoryUsedMb', () => {
  it('counts this process when given its pid, and nothing for unknown pids', async () => {
    const own = await maxMemoryUsedMb([process.pid]);
    if (process.platform === 'linux') expect(own).toBeGreaterThan(1);
    expect(await maxMemoryUsedMb([undefined, 2 ** 22 + 12345])).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { configOfBytes } from '../../src/data.js';
import { cpuMs, parseSchedstatNs, parseStatTicks, parseUssKb } from '../../src/processes.js';
import { describeSandbox } from '../../src/sandbox.js';
import { summarize } from '../../src/stats.js';

describe('parseStatTicks', () => {
  it('adds utime and stime when the process name holds spaces and parentheses', () => {
    const stat = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 900 0 0 0 37 5 0 0 20 0 7 0 100 1 2';
    expect(parseStatTicks(stat)).toBe(42);
  });

  it('throws when the line has no time fields', () => {
    expect(() => parseStatTicks('1 (x) S')).toThrow(/unreadable/);
  });
});

describe('cpuMs', () => {
  it('reads the first schedstat field as nanoseconds', () => {
    expect(parseSchedstatNs('98954501 10682232 223\n')).toBe(98_954_501);
    expect(() => parseSchedstatNs('x 1 2')).toThrow(/unreadable/);
  });

  it('reads this process to below a millisecond', () => {
    const before = cpuMs(process.pid);
    // Burn 60 ms of CPU, as getrusage counts it.
    const started = process.cpuUsage();
    let spent = 0;
    while (spent < 60_000) {
      const u = process.cpuUsage(started);
      spent = u.user + u.system;
    }
    const ms = cpuMs(process.pid) - before;
    expect(ms).toBeGreaterThanOrEqual(59);
    expect(ms % 10).not.toBe(0);
  });
});

describe('parseUssKb', () => {
  it('sums Private_Clean and Private_Dirty and ignores shared pages', () => {
    const rollup = [
      '00400000-7ffd0000 ---p 00000000 00:00 0    [rollup]',
      'Rss:               41000 kB',
      'Pss:               20000 kB',
      'Shared_Clean:      30000 kB',
      'Shared_Dirty:          0 kB',
      'Private_Clean:      1200 kB',
      'Private_Dirty:      9800 kB',
    ].join('\n');
    expect(parseUssKb(rollup)).toBe(11_000);
  });

  it('throws when the private lines are missing', () => {
    expect(() => parseUssKb('Rss: 1 kB\n')).toThrow(/Private_Clean/);
  });
});

describe('summarize', () => {
  it('reports nearest-rank p10 and p90 beside the median', () => {
    const s = summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5, 11]);
    expect(s).toEqual({ min: 1, p10: 2, median: 6, p90: 10, max: 11 });
  });

  it('falls back to min and max with fewer than ten rounds', () => {
    const s = summarize([3, 1, 2]);
    expect([s.p10, s.p90]).toEqual([1, 3]);
  });
});

describe('configOfBytes', () => {
  it('fills 1 MiB with about 37 000 names and never goes over', () => {
    const { text, names } = configOfBytes(1024 * 1024);
    const bytes = Buffer.byteLength(text);
    expect(bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(bytes).toBeGreaterThan(1024 * 1024 - 40);
    expect(names).toBeGreaterThan(36_000);
    expect(names).toBeLessThan(38_000);
    expect(text.split('\n').filter((l) => l.startsWith('      - /bench/cfg/')).length).toBe(names);
  });
});

describe('describeSandbox', () => {
  it('says the CPU share was not applied when the emulator measured by PSS', () => {
    expect(describeSandbox('pss', true)).toMatch(/no CPU share could be applied/);
  });

  it('says the CPU share applied with a cgroup', () => {
    expect(describeSandbox('cgroup', true)).toMatch(/CPU share applied/);
  });
});

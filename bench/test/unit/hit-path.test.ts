import {
  parseAppConfigQuery,
  parseAwsSecretQuery,
  parseParameterQuery,
  parseSecretQuery,
  ROUTES,
} from '@lambda-cache/shared';
import { describe, expect, it } from 'vitest';
import {
  benchSeed,
  SEED_APPCONFIG,
  SEED_CONFIG,
  SEED_FLAG,
  SEED_SECRET,
  SEED_STACK_CONFIG,
} from '../../src/data.js';
import { renderMarkdown } from '../../src/report.js';
import type { Figure, Results } from '../../src/results.js';
import { HIT_ROUTES, hitFigure, hitPaths } from '../../src/sections/hit-path.js';

function split(path: string): { route: string; search: URLSearchParams } {
  const url = new URL(path, 'http://127.0.0.1');
  return { route: url.pathname, search: url.searchParams };
}

describe('hitPaths', () => {
  it('reads the seed secret on both secret routes and the flag profile whole and by one flag', () => {
    const paths = hitPaths();
    expect(Object.keys(paths).sort()).toEqual([...HIT_ROUTES].sort());
    const secret = split(paths.secrets);
    expect(secret.route).toBe(ROUTES.secrets);
    expect(parseSecretQuery(secret.search)).toEqual({ id: SEED_SECRET, refresh: false });
    const aws = split(paths.secrets_aws);
    expect(aws.route).toBe(ROUTES.awsSecret);
    expect(parseAwsSecretQuery(aws.search)).toEqual({ id: SEED_SECRET, refresh: false });
    const whole = split(paths.appconfig);
    expect(whole.route).toBe(ROUTES.appconfig);
    expect(parseAppConfigQuery(whole.search)).toEqual({ ...SEED_APPCONFIG, refresh: false });
    const flag = split(paths.appconfig_flag);
    expect(flag.route).toBe(ROUTES.appconfig);
    expect(parseAppConfigQuery(flag.search)).toEqual({
      ...SEED_APPCONFIG,
      flags: [SEED_FLAG],
      refresh: false,
    });
    expect(parseParameterQuery(split(paths.parameters).search).name).toBe('CacheExtensions_Parameter1');
  });

  it('reads only what the bench seeds in the local backends', () => {
    const seed = benchSeed({ prefetch: 0, kilobyte: 0, valueBytes: 8, readThrough: 0 });
    expect(seed.secrets?.map((s) => s.name)).toContain(SEED_SECRET);
    const profile = seed.appconfig?.find(
      (c) =>
        c.application === SEED_APPCONFIG.application &&
        c.environment === SEED_APPCONFIG.environment &&
        c.profile === SEED_APPCONFIG.profile,
    );
    expect(Object.keys(profile?.flags ?? {})).toContain(SEED_FLAG);
  });
});

describe('SEED_STACK_CONFIG', () => {
  it("is the seed's config unchanged, then a secrets and an appconfig section naming what the hit path reads", () => {
    expect(SEED_STACK_CONFIG.startsWith(SEED_CONFIG.trimEnd())).toBe(true);
    const added = SEED_STACK_CONFIG.slice(SEED_CONFIG.trimEnd().length);
    expect(added.match(/^[a-z]+:/gm)).toEqual(['secrets:', 'appconfig:']);
    expect(added).toContain(`      - ${SEED_SECRET}\n`);
    expect(added).toContain(`  - application: ${SEED_APPCONFIG.application}\n`);
    expect(added).toContain(`    profile: ${SEED_APPCONFIG.profile}\n`);
  });
});

describe('renderMarkdown', () => {
  const figure = (median: number, unit: string): Figure => ({
    unit,
    what: 'test',
    min: median,
    p10: median,
    median,
    p90: median,
    max: median,
  });

  it('lists every route at every connection count beside the bare server, with the ratio of medians', () => {
    const figures: Record<string, Figure> = {};
    for (const route of HIT_ROUTES) {
      for (const c of [1, 32]) {
        figures[hitFigure(route, c, 'extension', 'rps')] = figure(900 * c, 'req/s');
        figures[hitFigure(route, c, 'bare', 'rps')] = figure(1000 * c, 'req/s');
        figures[hitFigure(route, c, 'extension', 'p99')] = figure(0.2, 'ms');
        figures[hitFigure(route, c, 'bare', 'p99')] = figure(0.16, 'ms');
      }
    }
    const results: Results = {
      machine: { cpus: 2, model: 'test', memory: 1024 },
      node: '20',
      date: '2026-01-01T00:00:00.000Z',
      mode: 'smoke',
      durationS: 1,
      figures,
      ratios: {},
      targets: [],
      notes: {},
      errors: {},
    };
    const md = renderMarkdown(results);
    const rows = md.split('\n').filter((l) => /^\| GET \//.test(l));
    expect(rows).toHaveLength(HIT_ROUTES.length * 2);
    expect(rows).toContain('| GET /secretsmanager/get | 32 | 28800 | 32000 | 0.9 | 0.2 | 0.16 | 1.25 |');
    expect(rows.filter((r) => r.startsWith('| GET /v1/appconfig (one flag) |'))).toHaveLength(2);
  });
});

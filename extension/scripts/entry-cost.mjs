#!/usr/bin/env node
// What the cache really holds per entry, next to what its budget counts. Reads N read-through parameters
// (names of L characters, values of S bytes; or N not-found names) through the store over fake SSM calls
// that answer as SSM's JSON does, and prints, after a full GC, against the bytes the cache says it holds:
// - `resident`: the growth of the process's private memory (USS) per entry, from the fifth entry of N on,
//   so the one-time costs of the first reads are left out. This is what the budget must bound.
// - `heap`: the heapUsed + external growth per entry. It counts live objects only: not the free space
//   V8's heap keeps around them, nor malloc's records of each buffer.
// Runs against the built JS (`npx tsc -p extension/tsconfig.build.json`); the young generation is capped,
// or its growth (up to 32 MiB, once) would be put on the entries:
//
//   node --expose-gc --max-semi-space-size=1 extension/scripts/entry-cost.mjs [--entries 10000]
//        [--value 100] [--name 40] [--missing] [--max-bytes 67108864] [--max-entries 10000000]
//        [--forms v1,aws]
//
// The budget is honest when `resident / counted` stays between 0.5 and 2 for every shape of entry, and
// `heap / counted` at most 1.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ManualClock } from '../dist/clock.js';
import { NotFoundError } from '../dist/errors.js';
import { silentLogger } from '../dist/log.js';
import { createStoreCache, SourceStore } from '../dist/source-store.js';
import { ParameterSource } from '../dist/sources/parameters.js';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '10000' },
    value: { type: 'string', default: '100' },
    name: { type: 'string', default: '40' },
    missing: { type: 'boolean', default: false },
    'max-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
    'max-entries': { type: 'string', default: '10000000' },
    forms: { type: 'string', default: 'v1' },
  },
});
const N = Number(args.entries);
const VALUE = Number(args.value);
const NAME = Number(args.name);
const FORMS = args.forms.split(',');
// The seed's raw-value route serves configured names only, so it cannot add read-through entries.
for (const f of FORMS) if (f !== 'v1' && f !== 'aws') throw new Error(`--forms: v1 or aws, not ${f}`);

/** SSM's answer as the wire carries it, parsed the way a JSON client parses it. */
function ssmAnswer(names) {
  const found = args.missing ? [] : names;
  const text = JSON.stringify({
    Parameters: found.map((n, i) => ({
      Name: n,
      Type: 'String',
      Value: `${i}`.padEnd(VALUE, 'v'),
      Version: 1,
      LastModifiedDate: 1_700_000_000.123,
      ARN: `arn:aws:ssm:us-west-2:123456789012:parameter${n}`,
      DataType: 'text',
    })),
    InvalidParameters: args.missing ? names : [],
  });
  const parsed = JSON.parse(text);
  const out = new Map();
  for (const p of parsed.Parameters) {
    out.set(p.Name, {
      name: p.Name,
      type: p.Type,
      value: p.Value,
      version: p.Version,
      lastModified: new Date(p.LastModifiedDate * 1000).toISOString(),
      arn: p.ARN,
      dataType: p.DataType,
    });
  }
  for (const n of parsed.InvalidParameters) {
    out.set(n, new NotFoundError(`parameter ${n} was not found`));
  }
  return out;
}

const ssm = {
  getParameters: async (_region, names) => ssmAnswer(names),
  getParametersByPath: async () => ({ parameters: [], truncated: false }),
};
const config = {
  file: 'config.yaml',
  parameters: [],
  paths: [],
  tables: [],
  keySchemas: [],
  sections: new Map(),
};
const clock = new ManualClock(1_000_000);
const sources = [new ParameterSource({ config, region: 'us-west-2', logger: silentLogger, ssm })];
const maxEntries = Number(args['max-entries']);
const maxBytes = Number(args['max-bytes']);
const store = new SourceStore({
  sources,
  cache: createStoreCache({
    sources,
    clock,
    logger: silentLogger,
    ttlMs: 300_000,
    maxEntries,
    maxBytes,
    waitMs: 5000,
  }),
  config,
  clock,
  logger: silentLogger,
  maxEntries,
  maxBytes,
  backendCalls: {},
});
const [parameters] = sources[0].routes;
const aws = sources[0].routes[1];
/** A read as the server hands it over: parsed from a query string by the route of its form. */
function read(name, form) {
  const q = new URLSearchParams({ name }).toString();
  if (form === 'aws') return aws.parse(`${q}&withDecryption=true`, aws.path);
  return parameters.parse(q, parameters.path);
}

/** A name as the server hands it over: decoded from a query string. */
function requestName(i) {
  const raw = `/cost/${i}/`.padEnd(NAME, 'n');
  return new URLSearchParams(`name=${encodeURIComponent(raw)}`).get('name');
}

function held() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
  return {
    heap: m.heapUsed + m.external,
    rss: m.rss,
    uss: (kb('Private_Clean') + kb('Private_Dirty')) * 1024,
  };
}

// Warm up the code paths (and V8's code caches) on a few names that are then forgotten.
for (let i = 0; i < 200; i++) {
  await Promise.resolve(store.read('p', read(requestName(-1 - i), 'v1'))).catch(() => {});
}
const warm = store.stats().bytes;
const before = held();
const BATCH = 10;
const SLOPE_FROM = Math.floor(N / 5);
let atSlope;
for (let i = 0; i < N; i += BATCH) {
  if (i === SLOPE_FROM) atSlope = { ...held(), entries: store.stats().entries, bytes: store.stats().bytes };
  const reads = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) {
    const name = requestName(j);
    for (const form of FORMS) {
      reads.push(Promise.resolve(store.read('p', read(name, form))).catch(() => {}));
    }
  }
  await Promise.all(reads);
}
const after = held();
const stats = store.stats();
const counted = stats.bytes - warm;
const heapDelta = after.heap - before.heap;
const rssDelta = after.rss - before.rss;
const mib = (b) => `${(b / 1024 / 1024).toFixed(2)} MiB`;
console.log(
  JSON.stringify({
    entries: N,
    valueBytes: args.missing ? 0 : VALUE,
    nameChars: NAME,
    missing: args.missing,
    forms: FORMS,
    maxBytes: Number(args['max-bytes']),
    cached: stats.entries,
    evictions: stats.evictions,
  }),
);
const slopeEntries = stats.entries - atSlope.entries;
if (slopeEntries > 0) {
  const resident = (after.uss - atSlope.uss) / slopeEntries;
  const countedPerEntry = (stats.bytes - atSlope.bytes) / slopeEntries;
  const heapPerEntry = heapDelta / Math.max(1, stats.entries);
  console.log(
    `per entry: counted ${Math.round(countedPerEntry)} B, resident ${Math.round(resident)} B (${(resident / countedPerEntry).toFixed(2)} × counted), heap ${Math.round(heapPerEntry)} B (${(heapDelta / Math.max(1, counted)).toFixed(2)} × counted)`,
  );
} else {
  console.log(`no entry added from read ${SLOPE_FROM} on (${stats.entries} held)`);
}
console.log(`in all: counted ${mib(counted)}, heap ${mib(heapDelta)}, RSS ${mib(rssDelta)}`);
// Keep the store alive until after the measurement.
if (store.stats().entries < 0) console.log('unreachable');

/**
 * The measuring process: a load generator (one undici Pool, N connections, identical for the product and
 * its baselines) and a per-call latency timer for the client, Powertools and the AWS SDK. It is forked
 * by the orchestrator and answers one task at a time over IPC.
 */
import { performance } from 'node:perf_hooks';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createCacheClient } from '@lambda-cache/client';
import { HEADERS, parameterPath } from '@lambda-cache/shared';
import { Pool } from 'undici';
import type {
  AwsTarget,
  LatencyArgs,
  LatencyResult,
  LoadArgs,
  LoadResult,
  PathSource,
  Reply,
  Request,
  Subject,
} from './protocol.js';
import { median, quantileSorted } from './stats.js';

/** Short timeouts: everything here is on localhost; a stuck request is a failure, not a wait. */
const POOL_TIMEOUTS = { headersTimeout: 10_000, bodyTimeout: 10_000, connectTimeout: 5_000 } as const;

function pathAt(source: PathSource, i: number): string {
  if (source.kind === 'list') return source.paths[i % source.paths.length] as string;
  return parameterPath(`${source.prefix}${source.start + i}`);
}

export async function runLoad(args: LoadArgs): Promise<LoadResult> {
  const max =
    args.paths.kind === 'parameters' ? Math.min(args.maxRequests, args.paths.count) : args.maxRequests;
  const pool = new Pool(args.origin, { connections: args.connections, pipelining: 1, ...POOL_TIMEOUTS });
  const latencies = new Float64Array(max);
  let issued = 0;
  let done = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + args.durationMs;
  const lane = async (): Promise<void> => {
    while (issued < max && performance.now() < deadline) {
      const i = issued++;
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: pathAt(args.paths, i), method: 'GET', headers: args.headers });
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      latencies[done++] = performance.now() - t0;
    }
  };
  try {
    await Promise.all(Array.from({ length: args.connections }, lane));
  } finally {
    await pool.close();
  }
  const elapsedMs = performance.now() - started;
  const sorted = latencies.subarray(0, done).sort();
  return {
    requests: done,
    errors,
    elapsedMs,
    rps: (done / elapsedMs) * 1000,
    p50Ms: quantileSorted(sorted, 0.5),
    p99Ms: quantileSorted(sorted, 0.99),
  };
}

interface Callable {
  readonly call: () => Promise<unknown>;
  readonly close: () => Promise<void>;
}

const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
};

function ssmClient(target: AwsTarget): SSMClient {
  // The SDK's default retries stay on: they cover a keep-alive socket the local server closed meanwhile.
  return new SSMClient({ endpoint: target.endpoint, region: target.region, credentials });
}

function expectValue(what: string, value: unknown): unknown {
  if (value === undefined || value === null || value === '') throw new Error(`${what} returned no value`);
  return value;
}

async function callable(subject: Subject, token: string): Promise<Callable> {
  switch (subject.kind) {
    case 'raw-undici': {
      // What a user writes without the client: one keep-alive pool, the token header, JSON body.
      const pool = new Pool(subject.origin, { connections: 1, ...POOL_TIMEOUTS });
      const headers = { [HEADERS.token]: token };
      return {
        call: async () => {
          const res = await pool.request({ path: subject.path, method: 'GET', headers });
          const body = await res.body.json();
          if (res.statusCode !== 200) throw new Error(`${subject.name}: status ${res.statusCode}`);
          return body;
        },
        close: () => pool.close(),
      };
    }
    case 'client-parameter': {
      const cache = createCacheClient({ port: subject.port, token, localCache: subject.localCache });
      return {
        call: async () => expectValue(subject.name, await cache.getParameter(subject.parameter)),
        close: async () => cache.close(),
      };
    }
    case 'client-item': {
      const cache = createCacheClient({ port: subject.port, token, localCache: subject.localCache });
      return {
        call: async () => expectValue(subject.name, await cache.getItem(subject.table, subject.key)),
        close: async () => cache.close(),
      };
    }
    case 'powertools': {
      const sdk = ssmClient(subject.ssm);
      const provider = new SSMProvider({ awsSdkV3Client: sdk });
      // An hour: every hit in a round is served from Powertools' in-process cache.
      const options = { maxAge: 3600, forceFetch: subject.forceFetch };
      return {
        call: async () => expectValue(subject.name, await provider.get(subject.parameter, options)),
        close: async () => sdk.destroy(),
      };
    }
    case 'sdk-parameter': {
      const sdk = ssmClient(subject.ssm);
      const command = () => new GetParameterCommand({ Name: subject.parameter, WithDecryption: true });
      return {
        call: async () => expectValue(subject.name, (await sdk.send(command())).Parameter?.Value),
        close: async () => sdk.destroy(),
      };
    }
    case 'sdk-item': {
      const sdk = new DynamoDBClient({
        endpoint: subject.dynamodb.endpoint,
        region: subject.dynamodb.region,
        credentials,
      });
      const key = Object.fromEntries(Object.entries(subject.key).map(([k, v]) => [k, { S: v }]));
      return {
        call: async () =>
          expectValue(
            subject.name,
            (await sdk.send(new GetItemCommand({ TableName: subject.table, Key: key }))).Item,
          ),
        close: async () => sdk.destroy(),
      };
    }
  }
}

/**
 * Per-call latency of each subject, rounds interleaved (A B C, A B C, …) so that drift in a shared
 * machine's load lands on every subject alike. Each round's figure is the median sample.
 */
export async function runLatency(args: LatencyArgs): Promise<LatencyResult> {
  const subjects = await Promise.all(
    args.subjects.map(async (s) => ({ subject: s, callable: await callable(s, args.token) })),
  );
  const result: LatencyResult = {};
  try {
    for (const { subject, callable: c } of subjects) {
      result[subject.name] = [];
      // Warm-up: JIT, connections, and the in-process caches' first (miss) call.
      for (let i = 0; i < Math.max(5, Math.ceil(args.iterations / 10)); i++) await c.call();
    }
    for (let round = 0; round < args.rounds; round++) {
      for (const { subject, callable: c } of subjects) {
        const batch = args.batch[subject.name] ?? 1;
        const samples: number[] = [];
        for (let i = 0; i < args.iterations; i++) {
          const t0 = performance.now();
          for (let b = 0; b < batch; b++) await c.call();
          samples.push(((performance.now() - t0) / batch) * 1000);
        }
        result[subject.name]?.push(median(samples));
      }
    }
  } finally {
    await Promise.all(subjects.map(({ callable: c }) => c.close().catch(() => undefined)));
  }
  return result;
}

async function handle(request: Request): Promise<unknown> {
  switch (request.task) {
    case 'load':
      return runLoad(request.args);
    case 'latency':
      return runLatency(request.args);
  }
}

if (process.send) {
  process.on('message', (message: Request) => {
    handle(message).then(
      (result) => process.send?.({ id: message.id, ok: true, result } satisfies Reply),
      (err: unknown) =>
        process.send?.({
          id: message.id,
          ok: false,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        } satisfies Reply),
    );
  });
  process.send({ ready: true });
}

/**
 * A backend that accepts connections and then never says a byte (a black-holed flow: a NAT or load
 * balancer that dropped its state). The local backends' `hangMs` fault answers held requests as soon as
 * the faults change, which is not what such a network does, so each backend sits behind a proxy that,
 * while silent, reads what it is sent and answers nothing; a connection accepted while silent stays silent
 * for good, and only connections made after the silence ends reach the backend.
 */
import net from 'node:net';
import { type Backends, startBackends } from '@lambda-cache/local';
import { dynamodbPath, parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { SEED_REGION } from '../src/fixtures.js';
import { type Reply, type Stack, sleep, startStack, totalCalls, waitFor } from '../src/harness.js';

const TABLE = 'SilentTable';
const CONFIGURED = Array.from({ length: 4 }, (_, i) => `/silent/conf${i}`);
/** More distinct names than the 16 calls a source sends at once. */
const COLD = Array.from({ length: 40 }, (_, i) => `/silent/cold${String(i).padStart(2, '0')}`);
const PROBE = '/silent/probe';
const COLD_ITEMS = Array.from({ length: 20 }, (_, i) => `cold-item-${String(i).padStart(2, '0')}`);
const CONFIGURED_ITEM = 'conf-item';
const TTL_MS = 1000;

const value = (name: string): string => `silent-value-of-${name}`;
const itemKey = (id: string) => ({ id: { S: id } });

const config = `parameters:
  - region: ${SEED_REGION}
    ttl: 1s
    names:
${CONFIGURED.map((n) => `      - ${n}`).join('\n')}
dynamodb:
  - table: ${TABLE}
    ttl: 1s
    hashkey: id
    hashkeytype: S
    hashkeyvalue: ${CONFIGURED_ITEM}
`;

const seed = {
  parameters: [...CONFIGURED, ...COLD, PROBE].map((name) => ({ name, value: value(name) })),
  tables: [
    {
      name: TABLE,
      hashKey: { name: 'id', type: 'S' as const },
      items: [CONFIGURED_ITEM, ...COLD_ITEMS].map((id) => ({ id, Data: value(id) })),
    },
  ],
};

/**
 * A TCP proxy in front of one backend. `silence()` makes every open connection and every new one a
 * black hole (its bytes are read and kept, nothing is ever sent back); `recover()` forwards only the
 * connections made after it, as a network that lost a flow's state does.
 */
class SilentProxy {
  private readonly server: net.Server;
  private silent = false;
  private readonly open = new Set<net.Socket>();
  /** What each silent connection sent, by connection. */
  private readonly heard: Buffer[][] = [];
  port = 0;

  constructor(private readonly target: URL) {
    this.server = net.createServer((client) => {
      this.open.add(client);
      client.on('close', () => this.open.delete(client));
      client.on('error', () => undefined);
      if (this.silent) this.blackHole(client);
      else this.forward(client);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private forward(client: net.Socket): void {
    const upstream = net.connect(Number(this.target.port), this.target.hostname);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    (client as net.Socket & { upstream?: net.Socket }).upstream = upstream;
  }

  private blackHole(client: net.Socket): void {
    const upstream = (client as net.Socket & { upstream?: net.Socket }).upstream;
    if (upstream) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      upstream.removeAllListeners('close');
      upstream.destroy();
    }
    const chunks: Buffer[] = [];
    this.heard.push(chunks);
    client.on('data', (c: Buffer) => chunks.push(c));
  }

  silence(): void {
    this.silent = true;
    for (const c of this.open) this.blackHole(c);
  }

  recover(): void {
    this.silent = false;
  }

  /** Silent connections whose bytes named `text` (a connection never answered carries one request). */
  heardOf(text: string): number {
    return this.heard.filter((chunks) => Buffer.concat(chunks).includes(text)).length;
  }

  close(): Promise<void> {
    for (const c of this.open) c.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let backends: Backends | undefined;
let stack: Stack | undefined;
const proxies: SilentProxy[] = [];
afterAll(async () => {
  await stack?.close();
  for (const p of proxies) await p.close();
  await backends?.close();
});

/** A GET and how long it took, for the printed figures (not asserted: speed belongs in the bench). */
async function timed(s: Stack, path: string): Promise<Reply & { ms: number }> {
  const t = performance.now();
  const r = await s.get(path);
  return { ...r, ms: Math.round(performance.now() - t) };
}

function range(rs: ReadonlyArray<{ ms: number }>): string {
  const ms = rs.map((r) => r.ms);
  return `${Math.min(...ms)}–${Math.max(...ms)} ms`;
}

describe('a backend that accepts connections and stays silent', () => {
  it('ends every read by its deadline, says so in the log and /v1/health, and recovers within seconds', async () => {
    backends = await startBackends({ seed, region: SEED_REGION });
    const b = backends;
    const ssm = await new SilentProxy(new URL(b.ssm.endpoint)).listen();
    const ddb = await new SilentProxy(new URL(b.dynamodb.endpoint)).listen();
    proxies.push(ssm, ddb);
    stack = await startStack({
      config,
      seed,
      backends: b,
      env: { AWS_ENDPOINT_URL_SSM: ssm.endpoint, AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint },
    });
    const s = stack;
    for (const n of CONFIGURED) expect((await s.get(parameterPath(n))).body.value).toBe(value(n));
    expect((await s.get(dynamodbPath(TABLE, itemKey(CONFIGURED_ITEM)))).status).toBe(200);

    ssm.silence();
    ddb.silence();
    // Past the TTL and the stale-while-revalidate window: a read of a configured key loads again.
    await sleep(2 * TTL_MS + 300);
    const linesBefore = s.logs().length;

    // An expired configured key: its load ends by the deadline and the last good value is served.
    const expired = await timed(s, parameterPath(CONFIGURED[0] as string));
    expect(expired.status).toBe(200);
    expect(expired.headers['x-cache']).toBe('stale');
    expect(expired.body.value).toBe(value(CONFIGURED[0] as string));
    const expiredAgain = await timed(s, parameterPath(CONFIGURED[0] as string));
    expect(expiredAgain.headers['x-cache']).toBe('stale');
    const expiredItem = await timed(s, dynamodbPath(TABLE, itemKey(CONFIGURED_ITEM)));
    expect(expiredItem.status).toBe(200);
    expect(expiredItem.headers['x-cache']).toBe('stale');

    // A cold key: a timeout, and the key backs off: the next read starts no call.
    const probe = await timed(s, parameterPath(PROBE));
    expect(probe.status).toBe(504);
    expect(probe.body.code).toBe('UpstreamTimeout');
    const probeCalls = ssm.heardOf(PROBE);
    expect(probeCalls).toBeGreaterThanOrEqual(1);
    const probeAgain = await timed(s, parameterPath(PROBE));
    expect.soft(probeAgain.status).toBe(504);
    expect.soft(ssm.heardOf(PROBE)).toBe(probeCalls);

    // More distinct cold names than the source's 16 calls in flight, spread so they are not one batch.
    const cold = await Promise.all(
      COLD.map(async (n, i) => {
        await sleep(i * 25);
        return timed(s, parameterPath(n));
      }),
    );
    const coldItems = await Promise.all(
      COLD_ITEMS.map(async (id, i) => {
        await sleep(i * 25);
        return timed(s, dynamodbPath(TABLE, itemKey(id)));
      }),
    );
    expect.soft(cold.map((r) => `${r.status} ${r.body.code}`)).toEqual(COLD.map(() => '504 UpstreamTimeout'));
    expect
      .soft(coldItems.map((r) => `${r.status} ${r.body.code}`))
      .toEqual(COLD_ITEMS.map(() => '504 UpstreamTimeout'));

    // Each timed-out attempt is logged at warn, naming the timeout and the service, never a value.
    const silenceLogs = s.logs().slice(linesBefore);
    const timeouts = silenceLogs.filter((l) => /aws attempt failed/.test(l) && /timeout/.test(l));
    console.log(
      `[aws-silent] during the silence: expired configured key ${expired.ms} ms then ${expiredAgain.ms} ms (stale), ` +
        `expired item ${expiredItem.ms} ms; cold probe ${probe.ms} ms then ${probeAgain.ms} ms (504, ${probeCalls} calls); ` +
        `${COLD.length} cold names ${range(cold)}, ${COLD_ITEMS.length} cold items ${range(coldItems)}; ` +
        `${timeouts.length} timeout lines, e.g. ${timeouts[0]}`,
    );
    // Soft: a build that fails here is shown failing every check, not only the first.
    expect.soft(timeouts.some((l) => /ssm/.test(l))).toBe(true);
    expect.soft(timeouts.some((l) => /dynamodb/.test(l))).toBe(true);

    const health = await s.get(ROUTES.health);
    console.log(`[aws-silent] health during the silence: ${JSON.stringify(health.body)}`);
    expect.soft(health.body.status).toBe('degraded');
    expect.soft(health.body.sources?.ssm?.status).toBe('failing');
    expect.soft(health.body.sources?.dynamodb?.status).toBe('failing');
    expect.soft(health.body.sources?.ssm?.lastError).toMatch(/timeout/);
    expect.soft(Number.isNaN(Date.parse(health.body.sources?.ssm?.since))).toBe(false);

    // The backend answers new connections again; the silent ones stay silent.
    const ssmCallsBefore = totalCalls(b.ssm);
    const ddbCallsBefore = totalCalls(b.dynamodb);
    ssm.recover();
    ddb.recover();
    const recoveredAt = performance.now();
    await waitFor(
      'an SSM call to reach the backend after the silence',
      async () => {
        await s.get(parameterPath(COLD[0] as string));
        return totalCalls(b.ssm) > ssmCallsBefore;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    const firstCallMs = Math.round(performance.now() - recoveredAt);
    await waitFor(
      'a DynamoDB call to reach the backend after the silence',
      async () => {
        await s.get(dynamodbPath(TABLE, itemKey(COLD_ITEMS[0] as string)));
        return totalCalls(b.dynamodb) > ddbCallsBefore;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );

    // No slot stays held: every cold name and item is served, each once its back-off is over.
    const served = async (path: string, expected: (r: Reply) => boolean): Promise<Reply> =>
      waitFor(
        `${path} to be served after the silence`,
        async () => {
          const r = await s.get(path);
          return expected(r) ? r : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
    const after = await Promise.all([
      ...COLD.map((n) => served(parameterPath(n), (r) => r.body?.value === value(n))),
      ...COLD_ITEMS.map((id) =>
        served(dynamodbPath(TABLE, itemKey(id)), (r) => r.body?.item?.Data?.S === value(id)),
      ),
    ]);
    expect(after).toHaveLength(COLD.length + COLD_ITEMS.length);
    // Configured keys are served fresh again.
    for (const n of CONFIGURED) {
      const r = await served(parameterPath(n), (x) => x.headers['x-cache'] === 'hit');
      expect(r.body.value).toBe(value(n));
    }
    await served(dynamodbPath(TABLE, itemKey(CONFIGURED_ITEM)), (x) => x.headers['x-cache'] === 'hit');
    const allServedMs = Math.round(performance.now() - recoveredAt);

    const healthAfter = await s.get(ROUTES.health);
    expect(healthAfter.body.status).toBe('ready');
    expect(healthAfter.body.sources.ssm).toEqual({ status: 'ok' });
    expect(healthAfter.body.sources.dynamodb).toEqual({ status: 'ok' });
    console.log(
      `[aws-silent] after recovery: first SSM call reached the backend ${firstCallMs} ms after it, ` +
        `all ${COLD.length} names, ${COLD_ITEMS.length} items and the configured keys served fresh by ${allServedMs} ms; health ${JSON.stringify(healthAfter.body)}`,
    );
  }, 120_000);
});

/**
 * DynamoDB: dynalite (an in-memory DynamoDB) behind a small proxy of ours, so calls are counted and
 * faults injected exactly as for the SSM and Secrets Manager emulators. Tables are created and items
 * written through the real SDK, straight to dynalite, so seeding does not show up in the call counts.
 */
import { type Agent, Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import dynalite from 'dynalite';
import type { Call, RawAnswer } from './http.js';

/** A table to create at start, with its items as plain JSON. */
export interface TableSeed {
  name: string;
  hashKey: { name: string; type: 'S' | 'N' | 'B' };
  sortKey?: { name: string; type: 'S' | 'N' | 'B' };
  items: Array<Record<string, unknown>>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'expect',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
]);

/** BatchWriteItem takes 25 requests. */
const WRITE_BATCH = 25;
/** Attempts at writing a batch's UnprocessedItems before giving up. */
const WRITE_ATTEMPTS = 5;
/**
 * How long `close()` waits for calls dynalite is still answering. Closing under one makes dynalite close
 * its database while the call still reads it, and the read throws where nothing can catch it.
 */
const CLOSE_DRAIN_MS = 2000;

/** A running dynalite and an SDK client talking to it directly. */
export class DynamoDbStore {
  readonly #server: ReturnType<typeof dynalite>;
  readonly #agent: Agent;
  readonly #endpoint: string;
  readonly #client: DynamoDBClient;
  #closing: Promise<void> | undefined;
  /** Calls forwarded to dynalite and not yet answered. */
  readonly #forwarding = new Set<Promise<unknown>>();

  private constructor(server: ReturnType<typeof dynalite>, host: string, region: string) {
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.#endpoint = `http://${host}:${port}`;
    this.#agent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
    this.#client = new DynamoDBClient({
      endpoint: this.#endpoint,
      region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 3,
    });
  }

  static async start(host: string, region: string): Promise<DynamoDbStore> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new DynamoDbStore(server, host, region);
  }

  async createTable(table: TableSeed): Promise<void> {
    const keys = [table.hashKey, ...(table.sortKey ? [table.sortKey] : [])];
    try {
      await this.#client.send(
        new CreateTableCommand({
          TableName: table.name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
          KeySchema: [
            { AttributeName: table.hashKey.name, KeyType: 'HASH' },
            ...(table.sortKey ? [{ AttributeName: table.sortKey.name, KeyType: 'RANGE' as const }] : []),
          ],
        }),
      );
    } catch (error) {
      throw new Error(`Could not create table ${table.name}: ${(error as Error).message}`, { cause: error });
    }
    for (let start = 0; start < table.items.length; start += WRITE_BATCH) {
      const batch = table.items.slice(start, start + WRITE_BATCH);
      await this.#writeBatch(
        table.name,
        batch.map((item) => ({ PutRequest: { Item: toAttributeMap(binaryKeys(item, keys)) } })),
      );
    }
  }

  async putItem(table: string, item: Record<string, unknown>): Promise<void> {
    try {
      await this.#client.send(new PutItemCommand({ TableName: table, Item: toAttributeMap(item) }));
    } catch (error) {
      throw new Error(`Could not put an item into ${table}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Sends one call to dynalite as it came and hands back its answer untouched. */
  forward(call: Call): Promise<RawAnswer> {
    if (this.#closing !== undefined) return Promise.reject(new Error('the local DynamoDB is closing'));
    const answer = this.#send(call);
    const forget = (): boolean => this.#forwarding.delete(settled);
    const settled: Promise<unknown> = answer.then(forget, forget);
    this.#forwarding.add(settled);
    return answer;
  }

  #send(call: Call): Promise<RawAnswer> {
    const { request } = call;
    // The body is already whole: hop-by-hop and framing headers are ours to set, not the caller's.
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers['content-length'] = String(call.rawBody.length);
    return new Promise<RawAnswer>((resolve, reject) => {
      const outgoing = httpRequest(
        `${this.#endpoint}${request.url ?? '/'}`,
        { method: request.method, headers, agent: this.#agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const headers: Record<string, string> = {};
            for (const name of ['content-type', 'x-amz-crc32', 'x-amzn-requestid']) {
              const value = response.headers[name];
              if (typeof value === 'string') headers[name] = value;
            }
            resolve({ status: response.statusCode ?? 500, headers, body: Buffer.concat(chunks) });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(call.rawBody);
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // The calls dynalite is answering end first (bounded): new ones are refused from now on.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.#forwarding),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_DRAIN_MS);
        }),
      ]);
      clearTimeout(timer);
      this.#client.destroy();
      this.#agent.destroy();
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeAllConnections();
      });
    })();
    return this.#closing;
  }

  async #writeBatch(table: string, requests: WriteRequest[]): Promise<void> {
    let pending = requests;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > WRITE_ATTEMPTS) {
        throw new Error(
          `Could not write ${pending.length} items into ${table} after ${WRITE_ATTEMPTS} attempts`,
        );
      }
      try {
        const result = await this.#client.send(
          new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
        );
        pending = result.UnprocessedItems?.[table] ?? [];
      } catch (error) {
        throw new Error(`Could not write items into ${table}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
}

/**
 * Moves a share of the keys of a successful `BatchGetItem` answer from `Responses` to
 * `UnprocessedKeys`, keeping each table's request options, the way DynamoDB answers when it runs
 * out of capacity or response size. Anything that is not a well-formed exchange passes untouched.
 */
export function withUnprocessedKeys(
  rawRequest: Buffer,
  answer: RawAnswer,
  rate: number,
  random: () => number,
): RawAnswer {
  if (answer.status !== 200 || rate <= 0) return answer;
  let request: BatchGetShape;
  let body: BatchGetAnswerShape;
  try {
    request = JSON.parse(rawRequest.toString('utf8')) as BatchGetShape;
    body = JSON.parse(answer.body.toString('utf8')) as BatchGetAnswerShape;
  } catch {
    return answer;
  }
  const unprocessed: Record<string, Record<string, unknown>> = { ...(body.UnprocessedKeys ?? {}) };
  const responses = { ...(body.Responses ?? {}) };
  for (const [table, entry] of Object.entries(request.RequestItems ?? {})) {
    const keys = Array.isArray(entry?.Keys) ? entry.Keys : [];
    const held = keys.filter(() => random() < rate);
    if (held.length === 0) continue;
    const heldIds = new Set(held.map((key) => keyId(key, Object.keys(key))));
    const names = Object.keys(held[0] ?? {});
    responses[table] = (responses[table] ?? []).filter((item) => !heldIds.has(keyId(item, names)));
    const previous = (unprocessed[table]?.Keys as unknown[] | undefined) ?? [];
    unprocessed[table] = { ...entry, Keys: [...previous, ...held] };
  }
  const headers = { ...answer.headers };
  delete headers['x-amz-crc32'];
  return {
    status: 200,
    headers,
    body: Buffer.from(
      JSON.stringify({ ...body, Responses: responses, UnprocessedKeys: unprocessed }),
      'utf8',
    ),
  };
}

interface BatchGetShape {
  RequestItems?: Record<string, { Keys?: Array<Record<string, unknown>> } & Record<string, unknown>>;
}

interface BatchGetAnswerShape {
  Responses?: Record<string, Array<Record<string, unknown>>>;
  UnprocessedKeys?: Record<string, Record<string, unknown>>;
}

/** The key attributes of an item or key, in a fixed order, as one comparable string. */
function keyId(item: Record<string, unknown>, names: string[]): string {
  return JSON.stringify([...names].sort().map((name) => [name, item[name]]));
}

/** Plain JSON cannot hold binary: a key of type `B` is written as base64 and decoded here. */
function binaryKeys(item: Record<string, unknown>, keys: TableSeed['hashKey'][]): Record<string, unknown> {
  const out = { ...item };
  for (const key of keys) {
    const value = out[key.name];
    if (key.type === 'B' && typeof value === 'string') out[key.name] = Buffer.from(value, 'base64');
  }
  return out;
}

/** Plain JSON to a DynamoDB attribute map; `undefined` members are dropped. */
function toAttributeMap(item: Record<string, unknown>) {
  return marshall(item, { removeUndefinedValues: true, convertEmptyValues: false });
}

/**
 * Local AWS backends: SSM Parameter Store and Secrets Manager (wire emulators of their JSON 1.1
 * protocol), AppConfigData (restJson1) and DynamoDB (dynalite), each on its own `127.0.0.1` port,
 * each counting calls by operation and able to inject latency, throttling, failures, resets and
 * corrupt answers. The real AWS SDK talks to them over HTTP through the standard
 * `AWS_ENDPOINT_URL_*` settings.
 */
import {
  APPCONFIG_OPERATIONS,
  AppConfigStore,
  appConfigErrorBody,
  appConfigRoute,
  type DeployInput,
} from './aws/appconfig.js';
import { DynamoDbStore, withUnprocessedKeys } from './aws/dynamodb.js';
import { AwsError } from './aws/errors.js';
import { type Faults, faultsApply } from './aws/faults.js';
import { type BackendControl, JsonProtocolServer, operationTable, type RawAnswer } from './aws/http.js';
import { SecretStore, type SecretValue, secretsManagerOperations } from './aws/secrets-manager.js';
import { ParameterStore, type ParameterType, ssmOperations } from './aws/ssm.js';
import { checkSeed, loadSeed, type Seed, SeedError } from './seed.js';

export type { DeployInput, FeatureFlags } from './aws/appconfig.js';
export { AwsError } from './aws/errors.js';
export { type Faults, HUGE_PADDING_BYTES, MAX_HANG_MS, type MalformedMode } from './aws/faults.js';
export { type BackendControl, CALL_LOG_LIMIT, type CallRecord } from './aws/http.js';
export { LOCAL_ACCOUNT_ID } from './aws/secrets-manager.js';
export { SECRETS_REFERENCE_PREFIX } from './aws/ssm.js';
export {
  type AppConfigSeed,
  checkSeed,
  loadSeed,
  type ParameterSeed,
  type SecretSeed,
  type SecretVersionSeed,
  type Seed,
  SeedError,
  type TableSeed,
} from './seed.js';

/** The local SSM endpoint, plus a way to write parameters without going through HTTP. */
export interface SsmBackend extends BackendControl {
  /**
   * Creates a parameter (`type` defaults to `String`) or, with `overwrite`, adds a version that keeps
   * the type unless another is given. Not counted as a call. Throws {@link AwsError}
   * (`ParameterAlreadyExists`, `ValidationException`) as `PutParameter` would answer.
   */
  putParameter(parameter: { name: string; value: string; type?: ParameterType; overwrite?: boolean }): void;
  /**
   * `secret`: answer a `/aws/reference/secretsmanager/NAME` read with `Name: "NAME"`, as some AWS emulators
   * do, instead of the full reference name AWS answers with. @default 'reference'
   */
  answerSecretReferencesAs(names: 'reference' | 'secret'): void;
}

/** A secret's value for the control methods: text, or bytes for a binary secret. */
export type SecretValueInput = string | Uint8Array;

/** The local Secrets Manager endpoint. None of its methods is counted as a call. */
export interface SecretsManagerBackend extends BackendControl {
  /**
   * Creates a secret, or adds a version to it: `AWSCURRENT` (the old current one becoming
   * `AWSPREVIOUS`) unless `stages` says otherwise, as PutSecretValue does. Throws {@link AwsError}
   * as PutSecretValue would answer.
   */
  putSecret(secret: { name: string; value: SecretValueInput; stages?: string[]; versionId?: string }): {
    versionId: string;
  };
  /**
   * A finished rotation: `value` becomes the `AWSCURRENT` version, `LastRotatedDate` is now and
   * `NextRotationDate` moves on by the rotation interval when one is set.
   */
  rotateSecret(name: string, value: SecretValueInput): { versionId: string };
  /** Sets `NextRotationDate` (epoch ms or a Date; `undefined` clears it). */
  setNextRotationDate(name: string, date: Date | number | undefined): void;
}

/** The local AppConfigData endpoint. None of its methods is counted as a call. */
export interface AppConfigBackend extends BackendControl {
  /**
   * Deploys a new version of a profile's content (or feature flags) to one environment, making the
   * application, environment and profile when new; sessions get it at their next poll. Throws
   * `RangeError` on bad input.
   */
  deploy(input: DeployInput): { versionNumber: number };
  /** The ids of an application, one of its environments and one of its profiles (names work too). */
  ids(
    application: string,
    environment?: string,
    profile?: string,
  ): { applicationId: string; environmentId?: string; profileId?: string };
  /**
   * Expires every configuration token handed out so far, as 24 hours would: their next poll is refused
   * with `BadRequestException`. For tests on the real clock. Returns how many unused tokens it expired.
   */
  expireTokens(): number;
}

/** The local DynamoDB endpoint (dynalite behind a counting proxy). */
export interface DynamoDbBackend extends BackendControl {
  /** Writes an item given as plain JSON. Not counted as a call. */
  putItem(table: string, item: Record<string, unknown>): Promise<void>;
}

export interface Backends {
  readonly ssm: SsmBackend;
  readonly secretsManager: SecretsManagerBackend;
  readonly appConfig: AppConfigBackend;
  readonly dynamodb: DynamoDbBackend;
  /** @default 'us-east-1' */
  readonly region: string;
  /**
   * Environment for a process that should reach these backends through the AWS SDK:
   * `AWS_ENDPOINT_URL_SSM`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_APPCONFIGDATA`,
   * `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_REGION`, `AWS_DEFAULT_REGION` and dummy `AWS_ACCESS_KEY_ID` /
   * `AWS_SECRET_ACCESS_KEY`.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Closes the servers and every socket, releasing held requests. Idempotent. */
  close(): Promise<void>;
}

export interface StartBackendsOptions {
  /** The data to start with, or the path of a YAML/JSON seed file. */
  seed?: Seed | string;
  /** @default 'us-east-1' */
  region?: string;
  /** Only loopback is served. @default '127.0.0.1' */
  host?: '127.0.0.1';
  /** Source of randomness for `throttleRate` and `failRate` (tests make it deterministic). @default Math.random */
  random?: () => number;
  /**
   * Clock for `LastModifiedDate`, `CreatedDate`, rotation dates, AppConfig token expiry and poll
   * intervals, and call-log times, in epoch ms. @default Date.now
   */
  now?: () => number;
}

/** SSM, Secrets Manager and AppConfigData requests are small: a value is at most 8 KiB, a secret 64 KiB. */
const MAX_REQUEST_BYTES = 1024 * 1024;
/** DynamoDB's own request limit (BatchWriteItem). */
const MAX_DYNAMODB_REQUEST_BYTES = 16 * 1024 * 1024;
const DUMMY_CREDENTIAL = 'local';
/** What dynalite answers; DynamoDB faults may name these. */
const DYNAMODB_OPERATIONS = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'ListTagsOfResource',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'UpdateItem',
  'UpdateTable',
];

/**
 * Starts the four backends on free ports and seeds them.
 *
 * @example
 * const backends = await startBackends({ seed: 'seed.yaml' });
 * const ssm = new SSMClient({ endpoint: backends.ssm.endpoint, region: backends.region });
 * // … or spawn a process with { ...process.env, ...backends.env }
 * await backends.close();
 */
export async function startBackends(options: StartBackendsOptions = {}): Promise<Backends> {
  const region = options.region ?? 'us-east-1';
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new RangeError(`host must be 127.0.0.1, got ${String(host)}`);
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const seed =
    typeof options.seed === 'string' ? await loadSeed(options.seed) : checkSeed(options.seed ?? {}, 'seed');

  const secrets = new SecretStore(region, now);
  const parameters = new ParameterStore(region, now, secrets);
  const source = typeof options.seed === 'string' ? options.seed : 'seed';
  // The stores apply AWS's rules (name patterns, value sizes, label syntax); a seed that breaks one
  // is a seed error that names the entry.
  const seeding = (path: string, write: () => void): void => {
    try {
      write();
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      throw new SeedError(`${source}: ${path}: ${error.message}`, { cause: error });
    }
  };
  for (const [index, secret] of (seed.secrets ?? []).entries()) {
    seeding(`secrets[${index}]`, () => {
      const versions = secret.versions ?? [{ value: secret.value, binary: secret.binary }];
      for (const version of versions) {
        const value: SecretValue =
          version.binary === undefined
            ? { string: version.value ?? '' }
            : { binary: Buffer.from(version.binary, 'base64') };
        secrets.put(secret.name, {
          value,
          stages: version.stages,
          id: version.id,
          description: secret.description,
        });
      }
      if (secret.rotation !== undefined) {
        const { afterDays, lambdaArn, lastRotated, nextRotation } = secret.rotation;
        secrets.configureRotation(secret.name, {
          afterDays,
          lambdaArn,
          lastRotated: lastRotated === undefined ? undefined : Date.parse(lastRotated),
          nextRotation: nextRotation === undefined ? undefined : Date.parse(nextRotation),
        });
      }
    });
  }
  const appConfig = new AppConfigStore(now);
  for (const [index, entry] of (seed.appconfig ?? []).entries()) {
    try {
      appConfig.deploy(entry);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new SeedError(`${source}: appconfig[${index}]: ${error.message}`, { cause: error });
    }
  }
  for (const [index, parameter] of (seed.parameters ?? []).entries()) {
    seeding(`parameters[${index}]`, () => {
      const type = parameter.type ?? 'String';
      for (const value of [...(parameter.history ?? []), parameter.value]) {
        parameters.put({ name: parameter.name, value, type, overwrite: true });
      }
      if (parameter.labels?.length) parameters.label(parameter.name, parameter.labels);
    });
  }

  let ssmServer: JsonProtocolServer | undefined;
  const ssmTable = ssmOperations(parameters, (operation) => {
    const faults = ssmServer?.faults ?? {};
    return faults.shortPages === true && faultsApply(faults, operation);
  });
  const secretsTable = secretsManagerOperations(secrets);
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    ssmServer = new JsonProtocolServer({
      version: '1.1',
      targetPrefix: 'AmazonSSM',
      throttle: { code: 'ThrottlingException', message: 'Rate exceeded' },
      internalError: { code: 'InternalServerError', message: 'An error occurred on the server side.' },
      maxBodyBytes: MAX_REQUEST_BYTES,
      handle: operationTable(ssmTable),
      operations: Object.keys(ssmTable),
      redact: (operation, request) => (operation === 'PutParameter' ? redact(request, ['Value']) : request),
      random,
      now,
    });
    started.push(ssmServer);
    await ssmServer.listen(host);

    const secretsServer = new JsonProtocolServer({
      version: '1.1',
      targetPrefix: 'secretsmanager',
      messageMember: 'Message',
      throttle: { code: 'ThrottlingException', message: 'Rate exceeded' },
      internalError: { code: 'InternalServiceError', message: 'An error occurred on the server side.' },
      maxBodyBytes: MAX_REQUEST_BYTES,
      handle: operationTable(secretsTable),
      operations: Object.keys(secretsTable),
      redact: (_operation, request) => redact(request, ['SecretString', 'SecretBinary']),
      random,
      now,
    });
    started.push(secretsServer);
    await secretsServer.listen(host);

    const appConfigServer = new JsonProtocolServer({
      route: appConfigRoute,
      contentType: 'application/json',
      errorBody: appConfigErrorBody,
      throttle: { code: 'ThrottlingException', message: 'Rate exceeded', status: 429 },
      internalError: {
        code: 'InternalServerException',
        message: 'There was an internal failure in the service.',
      },
      maxBodyBytes: MAX_REQUEST_BYTES,
      handle: (call) => appConfig.handle(call),
      operations: APPCONFIG_OPERATIONS,
      random,
      now,
    });
    started.push(appConfigServer);
    await appConfigServer.listen(host);

    const dynamo = await DynamoDbStore.start(host, region);
    started.push(dynamo);
    for (const [index, table] of (seed.tables ?? []).entries()) {
      try {
        await dynamo.createTable(table);
      } catch (error) {
        throw new SeedError(`${source}: tables[${index}]: ${(error as Error).message}`, { cause: error });
      }
    }
    const dynamoServer: JsonProtocolServer = new JsonProtocolServer({
      version: '1.0',
      targetPrefix: 'DynamoDB_20120810',
      errorTypePrefix: 'com.amazonaws.dynamodb.v20120810#',
      throttle: {
        code: 'ProvisionedThroughputExceededException',
        message:
          'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
      },
      internalError: { code: 'InternalServerError', message: 'Internal server error' },
      maxBodyBytes: MAX_DYNAMODB_REQUEST_BYTES,
      operations: DYNAMODB_OPERATIONS,
      handle: async (call): Promise<RawAnswer> => {
        const answer = await dynamo.forward(call);
        const faults: Readonly<Faults> = dynamoServer.faults;
        if (
          call.operation !== 'BatchGetItem' ||
          !faults.unprocessedRate ||
          !faultsApply(faults, call.operation)
        ) {
          return answer;
        }
        return withUnprocessedKeys(call.rawBody, answer, faults.unprocessedRate, random);
      },
      random,
      now,
    });
    started.push(dynamoServer);
    await dynamoServer.listen(host);

    let closing: Promise<void> | undefined;
    return {
      ssm: withMethods<Omit<SsmBackend, keyof BackendControl>>(ssmServer, {
        putParameter(parameter) {
          parameters.put(parameter);
        },
        answerSecretReferencesAs(names) {
          parameters.secretReferenceNames = names;
        },
      }),
      secretsManager: withMethods<Omit<SecretsManagerBackend, keyof BackendControl>>(secretsServer, {
        putSecret: (secret) =>
          secrets.put(secret.name, {
            value: secretValue(secret.value),
            stages: secret.stages,
            id: secret.versionId,
          }),
        rotateSecret: (name, value) => secrets.rotate(name, secretValue(value)),
        setNextRotationDate: (name, date) => secrets.setNextRotationDate(name, date),
      }),
      appConfig: withMethods<Omit<AppConfigBackend, keyof BackendControl>>(appConfigServer, {
        deploy: (input) => appConfig.deploy(input),
        ids: (application, environment, profile) => appConfig.ids(application, environment, profile),
        expireTokens: () => appConfig.expireTokens(),
      }),
      dynamodb: withMethods<Omit<DynamoDbBackend, keyof BackendControl>>(dynamoServer, {
        putItem: (table, item) => dynamo.putItem(table, item),
      }),
      region,
      env: Object.freeze({
        AWS_ENDPOINT_URL_SSM: ssmServer.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsServer.endpoint,
        AWS_ENDPOINT_URL_APPCONFIGDATA: appConfigServer.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoServer.endpoint,
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_ACCESS_KEY_ID: DUMMY_CREDENTIAL,
        AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIAL,
      }),
      close() {
        closing ??= closeAll(started);
        return closing;
      },
    };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

/** A control object that forwards the {@link BackendControl} members to `server` and adds `methods`. */
function withMethods<T extends object>(server: JsonProtocolServer, methods: T): BackendControl & T {
  return Object.freeze({
    get endpoint() {
      return server.endpoint;
    },
    get calls() {
      return server.calls;
    },
    get callLog() {
      return server.callLog;
    },
    resetCalls: () => server.resetCalls(),
    setFaults: (faults: Parameters<JsonProtocolServer['setFaults']>[0]) => server.setFaults(faults),
    ...methods,
  });
}

async function closeAll(started: Array<{ close(): Promise<void> }>): Promise<void> {
  await Promise.all(started.map((item) => item.close()));
}

function secretValue(value: SecretValueInput): SecretValue {
  return typeof value === 'string' ? { string: value } : { binary: Buffer.from(value) };
}

/** Keeps values out of the call log; the rest of the request stays for assertions. */
function redact(request: unknown, members: string[]): unknown {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return request;
  const copy: Record<string, unknown> = { ...request };
  for (const member of members) if (member in copy) copy[member] = '***';
  return copy;
}

/**
 * Everything that is not needed to listen and register: the config loader, the AWS SDK, the sources and
 * the cache. `run` reaches this module only through `import()` after `register`, so none of it is
 * evaluated during the part of init that delays the function's runtime.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { ExtensionSettings } from '@lambda-cache/shared';
import { AwsStore } from './aws-store.js';
import type { Clock } from './clock.js';
import { type CacheConfig, describeConfig, loadConfig } from './config.js';
import type { Logger } from './log.js';
import { CLIENT_DEFAULTS, RegionalClients } from './sources/clients.js';
import { DynamoDbSource } from './sources/dynamodb.js';
import { SsmSource } from './sources/ssm.js';

export { ConfigError } from './config.js';

export interface Backend {
  readonly store: AwsStore;
  readonly config: CacheConfig;
  /** Closes the SDK clients' sockets. */
  destroy(): void;
}

export async function createBackend(opts: {
  settings: ExtensionSettings;
  /** `true` when `CACHE_EXTENSION_CONFIG` was set: a missing file is then an error, not an empty config. */
  configRequired: boolean;
  clock: Clock;
  logger: Logger;
}): Promise<Backend> {
  const { settings, logger } = opts;
  const config = await loadConfig(settings.configPath, { required: opts.configRequired });
  logger.info(`config ${describeConfig(config)}`);
  const backendCalls: Record<string, number> = {};
  const count = (op: string): void => {
    backendCalls[op] = (backendCalls[op] ?? 0) + 1;
  };
  const ssmClients = new RegionalClients(
    (region) => new SSMClient({ ...CLIENT_DEFAULTS, ...(region !== undefined ? { region } : {}) }),
  );
  const dynamoClients = new RegionalClients(
    (region) => new DynamoDBClient({ ...CLIENT_DEFAULTS, ...(region !== undefined ? { region } : {}) }),
  );
  const store = new AwsStore({
    config,
    ssm: new SsmSource({ clientFor: (r) => ssmClients.get(r), count }),
    dynamodb: new DynamoDbSource({ clientFor: (r) => dynamoClients.get(r), count }),
    clock: opts.clock,
    logger,
    ttlMs: settings.ttlMs,
    maxEntries: settings.maxEntries,
    maxBytes: settings.maxBytes,
    region: settings.region,
    backendCalls,
  });
  return {
    store,
    config,
    destroy() {
      ssmClients.destroy();
      dynamoClients.destroy();
    },
  };
}

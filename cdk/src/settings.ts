/**
 * The extension's settings as the function's environment variables, checked at synth by the parser the
 * extension runs at init (`parseExtensionSettings` from `@lambda-cache/shared`): a value the extension
 * would refuse fails `cdk synth` with the extension's own message instead of the function's first init.
 */

import { ENV, formatDuration, type LogLevel, parseExtensionSettings } from '@lambda-cache/shared';
import { Duration, Token } from 'aws-cdk-lib';

/** The extension's settings; each one left out keeps the extension's default. */
export interface LambdaCacheSettings {
  /**
   * Port on 127.0.0.1 (`CACHE_EXTENSION_PORT`), 0 to 65535, not 9001 (Lambda's Runtime API). CloudWatch
   * Lambda Insights also listens on 3000: pick another port next to it.
   * @default 3000
   * @example port: 4000
   */
  readonly port?: number;
  /**
   * Default freshness (`CACHE_EXTENSION_TTL`): a Go-style duration from `0s` to `24h`, or a CDK `Duration`.
   * @default '5m'
   * @example ttl: Duration.minutes(10) // or '10m'
   */
  readonly ttl?: string | Duration;
  /**
   * Prefetch the configured items during init (`CACHE_EXTENSION_INIT_STARTUP`).
   * @default true
   * @example initStartup: false
   */
  readonly initStartup?: boolean;
  /**
   * `debug`, `info`, `warn`, `error` or `none` (`CACHE_EXTENSION_LOG_LEVEL`).
   * @default 'info'
   * @example logLevel: 'warn'
   */
  readonly logLevel?: LogLevel;
  /**
   * Most entries held, 1 to 10 000 000 (`CACHE_EXTENSION_MAX_ENTRIES`).
   * @default 10000
   * @example maxEntries: 50_000
   */
  readonly maxEntries?: number;
  /**
   * Most bytes held, 1024 to 8 GiB (`CACHE_EXTENSION_MAX_BYTES`).
   * @default 67108864 (64 MiB)
   * @example maxBytes: 16 * 1024 * 1024
   */
  readonly maxBytes?: number;
  /**
   * Also serve the seed's routes, without a token (`CACHE_EXTENSION_LEGACY_ROUTES`).
   * @default false
   * @example legacyRoutes: true
   */
  readonly legacyRoutes?: boolean;
}

/**
 * The variables for `settings` (only those given), checked by the extension's own parser: throws its
 * `EnvError` (`CACHE_EXTENSION_PORT: 9001 is reserved …`) for a value it would refuse. A value that is
 * an unresolved token is known only at deploy time, so it is set but not checked.
 *
 * @example
 * environmentFor({ ttl: '10m', port: 4000 }); // { CACHE_EXTENSION_PORT: '4000', CACHE_EXTENSION_TTL: '10m' }
 */
export function environmentFor(settings: LambdaCacheSettings): Record<string, string> {
  const values: ReadonlyArray<readonly [string, string | number | boolean | undefined]> = [
    [ENV.port, settings.port],
    [ENV.ttl, settings.ttl instanceof Duration ? durationText(settings.ttl) : settings.ttl],
    [ENV.initStartup, settings.initStartup],
    [ENV.logLevel, settings.logLevel],
    [ENV.maxEntries, settings.maxEntries],
    [ENV.maxBytes, settings.maxBytes],
    [ENV.legacyRoutes, settings.legacyRoutes],
  ];
  const variables: Record<string, string> = {};
  const known: Record<string, string> = {};
  for (const [name, value] of values) {
    if (value === undefined) continue;
    const text = String(value);
    variables[name] = text;
    if (!Token.isUnresolved(value)) known[name] = text;
  }
  parseExtensionSettings(known);
  return variables;
}

function durationText(d: Duration): string {
  return d.isUnresolved() ? d.toString() : formatDuration(d.toMilliseconds());
}

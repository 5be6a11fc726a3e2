/**
 * The `appconfig:` section of `config.yaml`: AppConfig configurations to prefetch and keep polled.
 *
 * ```yaml
 * appconfig:
 *   - application: shop          # a name or an id
 *     environment: prod
 *     profile: feature-flags
 *     region: eu-west-1          # optional: the function's region
 *     pollInterval: 1m           # optional: AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS, else 45s
 * ```
 *
 * `pollInterval` is whole seconds from AppConfig's minimum of 15s to 24h; it is both how often AppConfigData
 * is asked and how long the configuration counts as fresh. A configuration listed twice is loaded once; two
 * listings that disagree on `pollInterval` are an error.
 */
import {
  APPCONFIG_POLL_INTERVAL_SECONDS,
  formatDuration,
  MAX_APPCONFIG_IDENTIFIER_LENGTH,
} from '@lambda-cache/shared';
import type { Node } from 'yaml';
import { type ConfigSection, type Field, type Path, quote, type Reader } from '../config.js';

export interface AppConfigEntry {
  /** Names or ids, as AppConfigData accepts them. */
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
  /** `undefined`: the function's region. */
  readonly region: string | undefined;
  /** At least 15 s, AppConfig's minimum; `undefined`: `AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS`. */
  readonly pollIntervalMs: number | undefined;
}

const ENTRY_KEYS = ['application', 'environment', 'profile', 'region', 'pollInterval'] as const;
const IDENTIFIER_KEYS = ['application', 'environment', 'profile'] as const;

const CONTROL_CHARS = /\p{Cc}/u;

const EXPECTED_ENTRY =
  'mappings with application, environment, profile and optionally region and pollInterval';
const EXPECTED_IDENTIFIER = `a name or an id of 1 to ${MAX_APPCONFIG_IDENTIFIER_LENGTH} characters, without control characters`;
const EXPECTED_INTERVAL = `whole seconds from ${APPCONFIG_POLL_INTERVAL_SECONDS.min}s (AppConfig's minimum) to 24h, e.g. 45s or 5m`;

interface Seen {
  readonly pollIntervalMs: number | undefined;
  readonly node: Node | null;
}

function identifier(r: Reader, fields: Map<string, Field>, node: Node, path: Path, name: string): string {
  const value = r.required(fields, node, path, name, EXPECTED_IDENTIFIER);
  if (value.length > MAX_APPCONFIG_IDENTIFIER_LENGTH || CONTROL_CHARS.test(value)) {
    const field = fields.get(name);
    r.fail(
      field?.value,
      field?.path ?? path,
      `${quote(value)} is not an AppConfig identifier`,
      EXPECTED_IDENTIFIER,
    );
  }
  return value;
}

function pollInterval(r: Reader, field: Field | undefined): number | undefined {
  if (!field) return undefined;
  const ms = r.duration(field);
  if (ms === undefined) return undefined;
  if (ms < APPCONFIG_POLL_INTERVAL_SECONDS.min * 1000) {
    r.fail(
      field.value,
      field.path,
      `${formatDuration(ms)} is below AppConfig's minimum poll interval of ${APPCONFIG_POLL_INTERVAL_SECONDS.min}s`,
      EXPECTED_INTERVAL,
    );
  }
  if (ms % 1000 !== 0) {
    r.fail(field.value, field.path, `${formatDuration(ms)} is not whole seconds`, EXPECTED_INTERVAL);
  }
  return ms;
}

/** `appconfig:` as {@link AppConfigEntry} values, each configuration (with its region) once. */
export const appconfigSection: ConfigSection<readonly AppConfigEntry[]> = {
  key: 'appconfig',

  read(r: Reader, field: Field | undefined): readonly AppConfigEntry[] {
    const out: AppConfigEntry[] = [];
    const seen = new Map<string, Seen>();
    for (const item of r.list(field, EXPECTED_ENTRY)) {
      const node = item.node;
      const fields = r.fields(node as Node, item.path, ENTRY_KEYS);
      const [application, environment, profile] = IDENTIFIER_KEYS.map((name) =>
        identifier(r, fields, node as Node, item.path, name),
      ) as [string, string, string];
      const region = r.region(fields.get('region'));
      const pollIntervalMs = pollInterval(r, fields.get('pollInterval'));
      const id = JSON.stringify([application, environment, profile, region ?? null]);
      const before = seen.get(id);
      if (before) {
        if (before.pollIntervalMs !== pollIntervalMs) {
          const line = r.line(before.node);
          const shown = (ms: number | undefined) =>
            ms === undefined ? 'the default pollInterval' : `pollInterval ${formatDuration(ms)}`;
          r.fail(
            fields.get('pollInterval')?.value ?? node,
            fields.get('pollInterval')?.path ?? item.path,
            `lists ${application}/${environment}/${profile} again with ${shown(pollIntervalMs)}, but ${line === undefined ? 'earlier' : `line ${line}`} gives it ${shown(before.pollIntervalMs)}`,
            'one pollInterval per configuration',
          );
        }
        continue;
      }
      seen.set(id, { pollIntervalMs, node });
      out.push({ application, environment, profile, region, pollIntervalMs });
    }
    return out;
  },

  describe(entries: readonly AppConfigEntry[]): string {
    return `${entries.length} ${entries.length === 1 ? 'configuration' : 'configurations'}`;
  },
};

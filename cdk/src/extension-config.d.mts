// Types of extension-config.mjs: the part of the extension's parsed config (extension/src/config.ts,
// `CacheConfig`) that the grants read. The tests run the real parser, so a field renamed there fails them.

/** A region such as `us-west-2`; `undefined` is the function's own. */
type Region = string | undefined;

export interface ConfigForGrants {
  /** Every configured name, as written: it may carry a `:version` or `:label` selector, or be an ARN. */
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly region: Region }>;
  /** Starts with `/`. */
  readonly paths: ReadonlyArray<{ readonly path: string; readonly region: Region }>;
  /** A table name or a table ARN. */
  readonly tables: ReadonlyArray<{ readonly table: string; readonly region: Region }>;
  /** `secrets:`: a secret's name or ARN. */
  readonly secrets: ReadonlyArray<{ readonly id: string; readonly region: Region }>;
  /** `appconfig:`: names or ids. */
  readonly appconfig: ReadonlyArray<{
    readonly application: string;
    readonly environment: string;
    readonly profile: string;
    readonly region: Region;
  }>;
}

/** The extension's limit on the size of config.yaml, in bytes. */
export declare const MAX_CONFIG_BYTES: number;

/** Parses config text as the extension does at init; throws its `ConfigError` (file:line:column: …). */
export declare function parseConfig(text: string, file: string): ConfigForGrants;

/**
 * SSM Parameter Store as a source: what `parameters:` names (and the hierarchies under its `path`s) is
 * prefetched, anything else is read through, `GetParameters` in batches of one region and decryption
 * setting (the wire is `ssm.ts`). Stored as the v1 body; the AWS-compatible and the seed's bodies are
 * built from it on first use.
 */
import {
  type AwsGetParameterPayload,
  LEGACY_ROUTES,
  type ParameterPayload,
  type ParameterQuery,
  type ParameterType,
  parseAwsParameterQuery,
  parseParameterQuery,
  ROUTES,
} from '@lambda-cache/shared';
import type { CacheConfig, ParameterEntry, ParameterPathEntry } from '../config.js';
import type { Logger } from '../log.js';
import { JSON_TYPE, regionOfPart, regionPart, SEP, TEXT_TYPE } from './codec.js';
import { notConfigured, seedRoutes } from './seed.js';
import type {
  Body,
  ConfiguredTarget,
  Discovery,
  LoadResult,
  Read,
  Source,
  SourceEntry,
  SourceRoute,
  Stored,
} from './source.js';
import { GET_PARAMETERS_BATCH, SsmSource } from './ssm.js';

/** A parameter as the cache keys it: its name (with any `:version` or `:label`), region and decryption. */
export interface ParameterTarget {
  /** `undefined`: the function's own region. */
  readonly region: string | undefined;
  readonly decrypt: boolean;
  readonly name: string;
}

/** What a hit needs besides the body: the type (a `String` answers reads with and without decryption). */
export type ParameterMeta = ParameterType;

/**
 * SSM's `GetParameter` body as AWS's Parameters and Secrets extension answers it: the date as an ISO-8601
 * string (its own serializer writes dates so, unlike the SSM wire's epoch seconds), and `Selector`,
 * `SourceResult` and `DataType` present as `null` when SSM has no value for them.
 */
export function awsParameterBody(p: ParameterPayload): Buffer {
  const selector = p.selector ?? '';
  const name = selector !== '' && p.name.endsWith(selector) ? p.name.slice(0, -selector.length) : p.name;
  const body: AwsGetParameterPayload = {
    Parameter: {
      ...(p.arn !== undefined ? { ARN: p.arn } : {}),
      DataType: p.dataType ?? null,
      LastModifiedDate: p.lastModified,
      Name: name,
      Selector: p.selector ?? null,
      SourceResult: p.sourceResult ?? null,
      Type: p.type,
      Value: p.value,
      Version: p.version,
    },
    ResultMetadata: {},
  };
  return Buffer.from(JSON.stringify(body));
}

/** The v1 body is `JSON.stringify(payload)`, so parsing it gives the payload back, field for field. */
function payloadOf(stored: Stored<ParameterMeta>): ParameterPayload {
  return JSON.parse(stored.body.toString('utf8')) as ParameterPayload;
}

/** A configured `path`, as the seed's parameter routes test names against it. */
interface SeedPath {
  /** The path with a trailing `/`. */
  readonly prefix: string;
  readonly recursive: boolean;
}

const V1_ROUTE = '/v1/parameters?name=NAME';

export interface ParameterSourceOptions {
  readonly config: CacheConfig;
  /** Region of anything not configured with one. */
  readonly region: string | undefined;
  readonly logger: Logger;
  readonly ssm: SsmSource;
}

export class ParameterSource implements Source<ParameterTarget, ParameterPayload, ParameterMeta> {
  readonly tag = 'p';
  readonly service = 'ssm';
  readonly label = 'parameters';
  readonly maxBatch = GET_PARAMETERS_BATCH;
  readonly routes: ReadonlyArray<SourceRoute<ParameterTarget>>;
  private readonly byName = new Map<string, ParameterEntry>();
  /** Longest path first, so a name finds its most specific hierarchy. */
  private readonly paths: readonly ParameterPathEntry[];
  private readonly seedPaths: readonly SeedPath[];

  constructor(private readonly opts: ParameterSourceOptions) {
    for (const p of opts.config.parameters) if (!this.byName.has(p.name)) this.byName.set(p.name, p);
    this.paths = [...opts.config.paths].sort((a, b) => b.path.length - a.path.length);
    this.seedPaths = this.paths.map((p) => ({
      prefix: p.path.endsWith('/') ? p.path : `${p.path}/`,
      recursive: p.recursive,
    }));
    const legacy = LEGACY_ROUTES.parameters;
    this.routes = [
      {
        path: ROUTES.parameters,
        token: true,
        parse: (query) => this.read(parseParameterQuery(new URLSearchParams(query)), 'main'),
      },
      {
        path: ROUTES.awsParameter,
        token: true,
        listeners: ['main', 'aws'],
        parse: (query) => this.read(parseAwsParameterQuery(new URLSearchParams(query)), 'aws'),
      },
      // The seed read every parameter decrypted, and never sent a token (its routes are off unless the
      // user turns them on); they serve only what the config names.
      ...seedRoutes(legacy, (name) => this.seedRead(name)),
    ];
  }

  private read(q: ParameterQuery, form: string): Read<ParameterTarget> {
    return {
      target: { region: this.regionOf(q.name), decrypt: q.decrypt, name: q.name },
      form,
      refresh: q.refresh,
    };
  }

  /**
   * A read of the seed's routes: only names the config covers ({@link isConfiguredName}); anything else is
   * a 404 without a backend call, so a function tricked into fetching a local URL cannot read whatever
   * the role can.
   */
  private seedRead(name: string): Read<ParameterTarget> {
    if (!this.isConfiguredName(name)) {
      throw notConfigured(`parameter ${name.slice(0, 200)}`, V1_ROUTE);
    }
    return this.read({ name, decrypt: true, refresh: false }, 'legacy');
  }

  /**
   * A name the seed's routes may serve: one the config names, or one under a configured `path` (a direct
   * child, unless the path is `recursive`).
   */
  private isConfiguredName(name: string): boolean {
    if (this.byName.has(name)) return true;
    for (const p of this.seedPaths) {
      if (
        name.length > p.prefix.length &&
        name.startsWith(p.prefix) &&
        (p.recursive || name.indexOf('/', p.prefix.length) === -1)
      )
        return true;
    }
    return false;
  }

  /** The configured entry or hierarchy a name belongs to, if any. */
  private entryOf(name: string): ParameterEntry | ParameterPathEntry | undefined {
    const configured = this.byName.get(name);
    if (configured) return configured;
    for (let i = 0; i < this.paths.length; i++) {
      const p = this.paths[i] as ParameterPathEntry;
      const prefix = (this.seedPaths[i] as SeedPath).prefix;
      if (name.startsWith(prefix)) return p;
    }
    return undefined;
  }

  private regionOf(name: string): string | undefined {
    return this.entryOf(name)?.region ?? this.opts.region;
  }

  encode(t: ParameterTarget): string {
    return `${regionPart(t.region)}${SEP}${t.decrypt ? '1' : '0'}${SEP}${t.name}`;
  }

  decode(text: string): ParameterTarget {
    const i = text.indexOf(SEP);
    const j = text.indexOf(SEP, i + 1);
    return {
      region: regionOfPart(text.slice(0, i)),
      decrypt: text.slice(i + 1, j) === '1',
      name: text.slice(j + 1),
    };
  }

  group(t: ParameterTarget): string {
    return `${regionPart(t.region)}${SEP}${t.decrypt ? '1' : '0'}`;
  }

  async load(
    _group: string,
    targets: readonly ParameterTarget[],
  ): Promise<Array<LoadResult<ParameterPayload>>> {
    const first = targets[0];
    if (first === undefined) return [];
    const names = targets.map((t) => t.name);
    const got = await this.opts.ssm.getParameters(first.region, names, first.decrypt);
    return names.map((n) => got.get(n) ?? new Error('SSM gave no result for the parameter'));
  }

  store(payload: ParameterPayload): Stored<ParameterMeta> {
    return { body: Buffer.from(JSON.stringify(payload)), contentType: JSON_TYPE, meta: payload.type };
  }

  /** `aws`: the body of SSM's `GetParameter`; `legacy`: the raw value, as the seed served it. */
  form(stored: Stored<ParameterMeta>, form: string): Body | undefined {
    if (form === 'aws') return { body: awsParameterBody(payloadOf(stored)), contentType: JSON_TYPE };
    if (form === 'legacy') return { body: Buffer.from(payloadOf(stored).value), contentType: TEXT_TYPE };
    return undefined;
  }

  /** A `String` parameter reads the same with or without decryption: the entry of the other setting answers. */
  alias(
    t: ParameterTarget,
    peek: (other: ParameterTarget) => Stored<ParameterMeta> | undefined,
  ): ParameterTarget | undefined {
    const other: ParameterTarget = { region: t.region, decrypt: !t.decrypt, name: t.name };
    const stored = peek(other);
    return stored !== undefined && stored.meta !== 'SecureString' ? other : undefined;
  }

  *configured(config: CacheConfig): Iterable<ConfiguredTarget<ParameterTarget>> {
    for (const p of config.parameters) {
      yield {
        target: { region: p.region ?? this.opts.region, decrypt: p.decrypt, name: p.name },
        ttlMs: p.ttlMs,
      };
    }
  }

  /** Each configured `path`: `GetParametersByPath` says which names exist, and loads them. */
  *discover(): Iterable<Discovery<ParameterTarget, ParameterPayload>> {
    for (const p of this.opts.config.paths) {
      const region = p.region ?? this.opts.region;
      yield {
        what: { path: p.path },
        found: this.opts.ssm
          .getParametersByPath(region, p.path, p.recursive, p.decrypt)
          .then(({ parameters, truncated }) => {
            if (truncated) {
              this.opts.logger.warn('parameter path has too many parameters; loaded the first pages', {
                path: p.path,
              });
            }
            return parameters.map((payload) => ({
              target: { region, decrypt: p.decrypt, name: payload.name },
              ttlMs: p.ttlMs,
              payload,
            }));
          }),
      };
    }
  }

  ttlOf(t: ParameterTarget): number | undefined {
    return this.entryOf(t.name)?.ttlMs;
  }

  describe(t: ParameterTarget): Readonly<Record<string, string>> {
    return { parameter: t.name };
  }
}

/** The registry's entry: SSM parameters through the lean AWS client. */
export const PARAMETERS: SourceEntry = {
  create: (deps) =>
    new ParameterSource({
      config: deps.config,
      region: deps.region,
      logger: deps.logger,
      ssm: new SsmSource({ aws: deps.aws }),
    }),
};

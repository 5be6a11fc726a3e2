/**
 * SSM Parameter Store, in memory, speaking its JSON 1.1 protocol (`X-Amz-Target: AmazonSSM.<Op>`).
 * Operations: GetParameter, GetParameters, GetParametersByPath, PutParameter, DeleteParameter,
 * LabelParameterVersion. Limits, selectors and error names follow the API reference:
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Operations.html
 */
import { randomBytes } from 'node:crypto';
import { AwsError, validationError } from './errors.js';
import {
  epochSeconds,
  type Input,
  optionalBoolean,
  optionalInteger,
  optionalObjectList,
  optionalString,
  optionalStringList,
  requiredString,
  requiredStringList,
} from './input.js';
import { LOCAL_ACCOUNT_ID, type SecretStore } from './secrets-manager.js';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

const TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
/** GetParameters takes at most 10 names; GetParametersByPath pages at most 10. */
const MAX_NAMES = 10;
const MAX_PAGE = 10;
/** AWS keeps the last 100 versions of a parameter. */
const MAX_VERSIONS = 100;
const MAX_LABELS_PER_VERSION = 10;
const STANDARD_MAX_VALUE = 4096;
const ADVANCED_MAX_VALUE = 8192;
const NAME_PATTERN = /^[a-zA-Z0-9_.\-/]+$/;
const LABEL_PATTERN = /^[a-zA-Z0-9_.-]{1,100}$/;
/** The KMS key every local SecureString is said to be encrypted with. */
const DEFAULT_KEY_ID = 'alias/aws/ssm';
/** `GetParameter(s)` resolves names under this prefix to Secrets Manager secrets. */
export const SECRETS_REFERENCE_PREFIX = '/aws/reference/secretsmanager/';

interface Version {
  readonly version: number;
  readonly value: string;
  readonly type: ParameterType;
  readonly modifiedMs: number;
  /** What a SecureString shows without decryption: stands in for the KMS ciphertext. */
  readonly ciphertext: string;
  readonly labels: Set<string>;
}

interface Parameter {
  readonly name: string;
  readonly versions: Version[];
  tier: string;
}

/** A parameter as the JSON protocol returns it. */
export interface ParameterJson {
  Name: string;
  Type: ParameterType;
  Value: string;
  Version: number;
  LastModifiedDate: number;
  ARN: string;
  DataType: string;
  Selector?: string;
  SourceResult?: string;
}

export interface PutParameterInput {
  name: string;
  value: string;
  type?: ParameterType;
  overwrite?: boolean;
}

export class ParameterStore {
  readonly #parameters = new Map<string, Parameter>();
  readonly #region: string;
  readonly #now: () => number;
  readonly #secrets: SecretStore;
  /**
   * How a secret reference is named in the answer: `reference`, as AWS answers
   * (`/aws/reference/secretsmanager/NAME`), or `secret`, the secret's own name, as some AWS emulators answer.
   */
  secretReferenceNames: 'reference' | 'secret' = 'reference';

  constructor(region: string, now: () => number, secrets: SecretStore) {
    this.#region = region;
    this.#now = now;
    this.#secrets = secrets;
  }

  /** The programmatic `PutParameter`; `type` defaults to `String` for a new parameter. */
  put(input: PutParameterInput): { version: number } {
    const result = this.putParameter({
      Name: input.name,
      Value: input.value,
      Type: input.type ?? (this.#parameters.has(input.name) ? undefined : 'String'),
      Overwrite: input.overwrite ?? false,
      Tier: 'Intelligent-Tiering',
    });
    return { version: result.Version };
  }

  /** Adds `label` to the latest version. */
  label(name: string, labels: string[]): void {
    const result = this.labelVersion({ Name: name, Labels: labels });
    if (result.InvalidLabels.length > 0) {
      throw new AwsError(
        'ValidationException',
        `Invalid labels for ${name}: ${result.InvalidLabels.join(', ')}`,
      );
    }
  }

  putParameter(input: Input): { Version: number; Tier: string } {
    const name = requiredString(input, 'Name');
    const value = requiredString(input, 'Value');
    const typeInput = optionalString(input, 'Type');
    const overwrite = optionalBoolean(input, 'Overwrite') ?? false;
    const tierInput = optionalString(input, 'Tier') ?? 'Standard';
    const dataType = optionalString(input, 'DataType') ?? 'text';
    checkName(name);
    if (typeInput !== undefined && !TYPES.includes(typeInput as ParameterType)) {
      throw validationError(typeInput, 'type', `Member must satisfy enum value set: [${TYPES.join(', ')}]`);
    }
    if (!['Standard', 'Advanced', 'Intelligent-Tiering'].includes(tierInput)) {
      throw validationError(
        tierInput,
        'tier',
        'Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]',
      );
    }
    if (dataType !== 'text') {
      throw new AwsError('InvalidDataType', `The data type ${dataType} is not supported locally; use text.`);
    }
    if (value.length === 0) {
      throw validationError('', 'value', 'Member must have length greater than or equal to 1');
    }
    const tier =
      tierInput === 'Intelligent-Tiering'
        ? value.length > STANDARD_MAX_VALUE
          ? 'Advanced'
          : 'Standard'
        : tierInput;
    const max = tier === 'Advanced' ? ADVANCED_MAX_VALUE : STANDARD_MAX_VALUE;
    if (value.length > max) {
      throw new AwsError(
        'ValidationException',
        tier === 'Standard'
          ? `Standard tier parameters support a maximum parameter value of ${STANDARD_MAX_VALUE} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.`
          : `Parameter values are limited to ${ADVANCED_MAX_VALUE} characters.`,
      );
    }
    const existing = this.#parameters.get(name);
    if (existing !== undefined && !overwrite) {
      throw new AwsError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    const latest = existing?.versions.at(-1);
    const type = (typeInput as ParameterType | undefined) ?? latest?.type;
    if (type === undefined) {
      throw new AwsError('ValidationException', 'A parameter type is required when you create a parameter.');
    }
    const parameter: Parameter = existing ?? { name, versions: [], tier };
    if (existing === undefined) this.#parameters.set(name, parameter);
    if (tier === 'Advanced') parameter.tier = 'Advanced';
    const version: Version = {
      version: (latest?.version ?? 0) + 1,
      value,
      type,
      modifiedMs: this.#now(),
      ciphertext: standInCiphertext(),
      labels: new Set(),
    };
    parameter.versions.push(version);
    if (parameter.versions.length > MAX_VERSIONS) {
      const oldest = parameter.versions[0];
      if (oldest !== undefined && oldest.labels.size > 0) {
        parameter.versions.pop();
        throw new AwsError(
          'ParameterMaxVersionLimitExceeded',
          `Parameter ${name} already has ${MAX_VERSIONS} versions and its oldest version has a label. Remove the label to continue.`,
        );
      }
      parameter.versions.shift();
    }
    return { Version: version.version, Tier: parameter.tier };
  }

  deleteParameter(input: Input): Record<string, never> {
    const name = requiredString(input, 'Name');
    if (!this.#parameters.delete(name)) throw parameterNotFound(name);
    return {};
  }

  getParameter(input: Input): { Parameter: ParameterJson } {
    // AWS trims spaces around a name and refuses spaces inside it.
    const requested = requiredString(input, 'Name').trim();
    if (/\s/.test(requested)) {
      throw new AwsError('ValidationException', 'Parameter name must not contain spaces.');
    }
    const decrypt = optionalBoolean(input, 'WithDecryption') ?? false;
    const result = this.#get(requested, decrypt);
    if (result.kind === 'ok') return { Parameter: result.parameter };
    if (result.kind === 'no-version') {
      throw new AwsError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${result.selector} of ${result.name}. Verify the version and try again.`,
      );
    }
    throw parameterNotFound(requested);
  }

  getParameters(input: Input): { Parameters: ParameterJson[]; InvalidParameters: string[] } {
    const names = requiredStringList(input, 'Names');
    const decrypt = optionalBoolean(input, 'WithDecryption') ?? false;
    if (names.length < 1 || names.length > MAX_NAMES) {
      throw validationError(
        `[${names.join(', ')}]`,
        'names',
        `Member must have length ${names.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_NAMES}`}`,
      );
    }
    const Parameters: ParameterJson[] = [];
    const InvalidParameters: string[] = [];
    for (const requested of new Set(names)) {
      const result = this.#get(requested.trim(), decrypt);
      if (result.kind === 'ok') Parameters.push(result.parameter);
      else InvalidParameters.push(requested);
    }
    return { Parameters, InvalidParameters };
  }

  /**
   * With `shortPages`, answers the way AWS may under load ("between zero and MaxResults" items): an
   * empty page with a NextToken first, then pages of at most half of MaxResults.
   */
  getParametersByPath(
    input: Input,
    { shortPages = false }: { shortPages?: boolean } = {},
  ): { Parameters: ParameterJson[]; NextToken?: string } {
    const path = requiredString(input, 'Path');
    const recursive = optionalBoolean(input, 'Recursive') ?? false;
    const decrypt = optionalBoolean(input, 'WithDecryption') ?? false;
    const maxResults = optionalInteger(input, 'MaxResults') ?? MAX_PAGE;
    const filters = parameterFilters(optionalObjectList(input, 'ParameterFilters') ?? []);
    if (maxResults < 1 || maxResults > MAX_PAGE) {
      throw validationError(
        String(maxResults),
        'maxResults',
        `Member must have value ${maxResults < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_PAGE}`}`,
      );
    }
    if (!path.startsWith('/') || path.length > 2048 || !NAME_PATTERN.test(path)) {
      throw new AwsError(
        'ValidationException',
        'The parameter path is not valid. A path must begin with a forward slash (/) and can include only letters, numbers, and the symbols . - _ /',
      );
    }
    if (path.startsWith(SECRETS_REFERENCE_PREFIX)) {
      throw new AwsError(
        'ValidationException',
        'GetParametersByPath does not support Secrets Manager references.',
      );
    }
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const { after, emptyServed } = decodePathToken(optionalString(input, 'NextToken'), path, recursive);
    const matching = [...this.#parameters.values()]
      .filter((parameter) => {
        if (!parameter.name.startsWith(prefix)) return false;
        if (!recursive && parameter.name.slice(prefix.length).includes('/')) return false;
        return filters(parameter);
      })
      .map((parameter) => parameter.name)
      .sort(compare)
      .filter((name) => after === undefined || compare(name, after) > 0);
    if (shortPages && !emptyServed && matching.length > 0) {
      return { Parameters: [], NextToken: encodePathToken({ path, recursive, after, emptyServed: true }) };
    }
    const page = matching.slice(0, shortPages ? Math.ceil(maxResults / 2) : maxResults);
    const Parameters = page.map((name) => {
      const parameter = this.#parameters.get(name)!;
      return this.#json(parameter, parameter.versions.at(-1)!, decrypt, undefined);
    });
    const last = page.at(-1);
    return matching.length > page.length && last !== undefined
      ? { Parameters, NextToken: encodePathToken({ path, recursive, after: last, emptyServed: false }) }
      : { Parameters };
  }

  labelVersion(input: Input): { InvalidLabels: string[]; ParameterVersion: number } {
    const name = requiredString(input, 'Name');
    const labels = requiredStringList(input, 'Labels');
    const versionNumber = optionalInteger(input, 'ParameterVersion');
    if (labels.length < 1 || labels.length > MAX_LABELS_PER_VERSION) {
      throw validationError(
        `[${labels.join(', ')}]`,
        'labels',
        `Member must have length less than or equal to ${MAX_LABELS_PER_VERSION}`,
      );
    }
    const parameter = this.#parameters.get(name);
    if (parameter === undefined) throw parameterNotFound(name);
    const version =
      versionNumber === undefined
        ? parameter.versions.at(-1)
        : parameter.versions.find((candidate) => candidate.version === versionNumber);
    if (version === undefined) {
      throw new AwsError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${versionNumber} of ${name}. Verify the version and try again.`,
      );
    }
    const InvalidLabels = labels.filter((label) => !validLabel(label));
    const valid = labels.filter(validLabel);
    const total = new Set([...version.labels, ...valid]).size;
    if (total > MAX_LABELS_PER_VERSION) {
      throw new AwsError(
        'ParameterVersionLabelLimitExceeded',
        `A parameter version can have at most ${MAX_LABELS_PER_VERSION} labels.`,
      );
    }
    for (const label of valid) {
      // A label names one version of a parameter at a time: attaching it moves it.
      for (const other of parameter.versions) other.labels.delete(label);
      version.labels.add(label);
    }
    return { InvalidLabels, ParameterVersion: version.version };
  }

  #get(
    requested: string,
    decrypt: boolean,
  ):
    | { kind: 'ok'; parameter: ParameterJson }
    | { kind: 'missing' }
    | { kind: 'no-version'; name: string; selector: string } {
    if (requested.startsWith(SECRETS_REFERENCE_PREFIX)) return this.#reference(requested, decrypt);
    const { name, selector } = splitSelector(requested);
    const parameter = this.#parameters.get(name);
    if (parameter === undefined) return { kind: 'missing' };
    let version: Version | undefined;
    if (selector === undefined) version = parameter.versions.at(-1);
    else if (/^\d+$/.test(selector)) version = parameter.versions.find((v) => v.version === Number(selector));
    else version = parameter.versions.find((v) => v.labels.has(selector));
    if (version === undefined) return { kind: 'no-version', name, selector: selector ?? '' };
    return {
      kind: 'ok',
      parameter: this.#json(parameter, version, decrypt, selector === undefined ? undefined : `:${selector}`),
    };
  }

  /** `/aws/reference/secretsmanager/<secret id>`: the secret, as a decrypted SecureString. */
  #reference(
    requested: string,
    decrypt: boolean,
  ): { kind: 'ok'; parameter: ParameterJson } | { kind: 'missing' } {
    if (!decrypt) {
      throw new AwsError(
        'ValidationException',
        'WithDecryption flag must be True for retrieving a Secret Manager secret.',
      );
    }
    const secretId = requested.slice(SECRETS_REFERENCE_PREFIX.length);
    const secret = this.#secrets.lookup(secretId);
    if (secret === undefined) return { kind: 'missing' };
    return {
      kind: 'ok',
      parameter: {
        Name: this.secretReferenceNames === 'secret' ? secretId : requested,
        Type: 'SecureString',
        Value: secret.SecretString,
        Version: 0,
        LastModifiedDate: secret.CreatedDate,
        ARN: secret.ARN,
        DataType: 'text',
        SourceResult: JSON.stringify(secret),
      },
    };
  }

  #json(
    parameter: Parameter,
    version: Version,
    decrypt: boolean,
    selector: string | undefined,
  ): ParameterJson {
    const hidden = version.type === 'SecureString' && !decrypt;
    return {
      Name: parameter.name,
      Type: version.type,
      Value: hidden ? version.ciphertext : version.value,
      Version: version.version,
      LastModifiedDate: epochSeconds(version.modifiedMs),
      ARN: `arn:aws:ssm:${this.#region}:${LOCAL_ACCOUNT_ID}:parameter/${parameter.name.replace(/^\//, '')}`,
      DataType: 'text',
      ...(selector === undefined ? {} : { Selector: selector }),
    };
  }
}

/** `name:3` → version 3, `name:prod` → label `prod`. Names cannot hold `:`, ARNs can. */
function splitSelector(requested: string): { name: string; selector: string | undefined } {
  let name = requested;
  let selector: string | undefined;
  const colon = requested.lastIndexOf(':');
  if (colon > 0 && !requested.slice(colon + 1).includes('/')) {
    name = requested.slice(0, colon);
    selector = requested.slice(colon + 1);
  }
  const arn = /^arn:aws[a-z-]*:ssm:[^:]*:[^:]*:parameter(\/.*)$/.exec(name);
  if (arn?.[1] !== undefined) {
    // The ARN of `/a/b` is `…:parameter/a/b`; the ARN of `name` is `…:parameter/name`.
    const path = arn[1];
    name = path.slice(1).includes('/') ? path : path.slice(1);
  }
  return { name, selector };
}

function checkName(name: string): void {
  if (name.length > 2048 || !NAME_PATTERN.test(name)) {
    throw new AwsError(
      'ValidationException',
      'Parameter name must contain only letters, numbers, and the symbols . - _ /, and be at most 2048 characters.',
    );
  }
  if (name.includes('/') && !name.startsWith('/')) {
    throw new AwsError('ValidationException', 'Parameter name must be a fully qualified name.');
  }
  if (/^\/?(aws|ssm)/i.test(name)) {
    throw new AwsError(
      'ValidationException',
      'No access to reserved parameter name: parameter name can\'t be prefixed with "aws" or "ssm" (case-insensitive).',
    );
  }
  if (name.split('/').length - 1 > 15) {
    throw new AwsError(
      'HierarchyLevelLimitExceededException',
      'A hierarchy can have a maximum of 15 levels.',
    );
  }
}

function validLabel(label: string): boolean {
  return LABEL_PATTERN.test(label) && !/^\d/.test(label) && !/^(aws|ssm)/i.test(label);
}

function parameterNotFound(name: string): AwsError {
  return new AwsError('ParameterNotFound', `Parameter ${name} not found.`);
}

/**
 * The filters GetParametersByPath supports (`Type`, `KeyId`, `Label`, with `Option: Equals`).
 * Every local SecureString is under the default key, `alias/aws/ssm`.
 */
function parameterFilters(filters: Input[]): (parameter: Parameter) => boolean {
  const tests: Array<(parameter: Parameter) => boolean> = [];
  for (const filter of filters) {
    const key = optionalString(filter, 'Key');
    const option = optionalString(filter, 'Option') ?? 'Equals';
    const values = optionalStringList(filter, 'Values') ?? [];
    if (key !== 'Type' && key !== 'KeyId' && key !== 'Label') {
      throw new AwsError(
        'InvalidFilterKey',
        `The filter key ${key ?? 'null'} is not supported by GetParametersByPath. Valid keys: Type, KeyId, Label.`,
      );
    }
    if (option !== 'Equals') {
      throw new AwsError(
        'InvalidFilterOption',
        `The filter option ${option} is not valid for ${key}. Valid: Equals.`,
      );
    }
    const type = (parameter: Parameter): string => parameter.versions.at(-1)?.type ?? '';
    if (key === 'Type') {
      tests.push((parameter) => values.includes(type(parameter)));
    } else if (key === 'KeyId') {
      tests.push((parameter) => type(parameter) === 'SecureString' && values.includes(DEFAULT_KEY_ID));
    } else {
      tests.push((parameter) => parameter.versions.some((v) => values.some((value) => v.labels.has(value))));
    }
  }
  return (parameter) => tests.every((test) => test(parameter));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Opaque to callers; it names the last parameter returned, so paging stays stable under writes. */
interface PathToken {
  path: string;
  recursive: boolean;
  /** The last name answered; absent before the first. */
  after: string | undefined;
  /** `shortPages`: the empty page for this position was already answered. */
  emptyServed: boolean;
}

function encodePathToken(token: PathToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

function decodePathToken(
  token: string | undefined,
  path: string,
  recursive: boolean,
): Pick<PathToken, 'after' | 'emptyServed'> {
  if (token === undefined) return { after: undefined, emptyServed: false };
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (
      parsed.path === path &&
      parsed.recursive === recursive &&
      (parsed.after === undefined || typeof parsed.after === 'string')
    ) {
      return { after: parsed.after, emptyServed: parsed.emptyServed === true };
    }
  } catch {
    // fall through
  }
  throw new AwsError('InvalidNextToken', 'The specified token is not valid.');
}

/** Looks like a KMS ciphertext blob (base64), and holds nothing of the value. */
function standInCiphertext(): string {
  return Buffer.concat([Buffer.from([1, 2, 2, 0, 120]), randomBytes(91)]).toString('base64');
}

/**
 * The operation table the HTTP endpoint dispatches to. `shortPages` says, per call, whether the
 * `shortPages` fault is active.
 */
export function ssmOperations(
  store: ParameterStore,
  shortPages: (operation: string) => boolean = () => false,
): Record<string, (input: Record<string, unknown>) => unknown> {
  return {
    GetParameter: (input) => store.getParameter(input),
    GetParameters: (input) => store.getParameters(input),
    GetParametersByPath: (input) =>
      store.getParametersByPath(input, { shortPages: shortPages('GetParametersByPath') }),
    PutParameter: (input) => store.putParameter(input),
    DeleteParameter: (input) => store.deleteParameter(input),
    LabelParameterVersion: (input) => store.labelVersion(input),
  };
}

/**
 * What the execution role needs for a config: each config section maps to its grants here, and nowhere
 * else. The actions are the calls the extension makes for that section (`extension/src/sources/`), the
 * resources what those calls are authorized against:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-retrieval-authorization.html
 */
import type { ConfigForGrants } from './extension-config.mjs';

/** One IAM allow: actions on resources (ARNs, possibly holding CDK tokens for partition, region, account). */
export interface Grant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** ARNs in the function's partition and account; `region` `undefined` is the function's region. */
export interface ArnFormatter {
  arn(service: 'ssm' | 'secretsmanager' | 'dynamodb', region: string | undefined, resource: string): string;
}

/** One config section's grants. */
type Section = (config: ConfigForGrants, arns: ArnFormatter) => Grant[];

/** SSM's names for Secrets Manager secrets: reading one needs the secret's `GetSecretValue` too. */
const SECRET_REFERENCE = '/aws/reference/secretsmanager/';

const GET_PARAMETERS = ['ssm:GetParameters'];
const GET_PARAMETERS_BY_PATH = ['ssm:GetParametersByPath'];
const GET_SECRET_VALUE = ['secretsmanager:GetSecretValue'];
/** `BatchGetItem` for prefetch and refresh, `GetItem` for a single read-through of a configured table. */
const READ_ITEMS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem'];

/** `parameters:` names: `GetParameters` on each, and the secret behind each secret reference. */
const parameterNames: Section = (config, arns) =>
  config.parameters.flatMap(({ name, region }) => {
    const grants: Grant[] = [{ actions: GET_PARAMETERS, resources: [parameterArn(arns, region, name)] }];
    if (name.startsWith(SECRET_REFERENCE)) {
      const secret = withoutSelector(name.slice(SECRET_REFERENCE.length));
      grants.push({ actions: GET_SECRET_VALUE, resources: [secretArn(arns, region, secret)] });
    }
    return grants;
  });

/**
 * `parameters:` paths: `GetParametersByPath` on the path itself (authorized against the path asked for, not
 * the parameters returned; granted with and without a trailing slash, both naming one hierarchy), and
 * `GetParameters` under it, since the names found there are refreshed by name.
 */
const parameterPaths: Section = (config, arns) =>
  config.paths.flatMap(({ path, region }) => {
    const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
    // `/` is every parameter: the path `parameter/`, the names `parameter/*`.
    const forms = trimmed === '' ? [''] : [trimmed, `${trimmed}/`];
    const under = trimmed === '' ? '' : `${trimmed}/`;
    return [
      {
        actions: GET_PARAMETERS_BY_PATH,
        resources: forms.map((p) => arns.arn('ssm', region, `parameter/${p}`)),
      },
      { actions: GET_PARAMETERS, resources: [arns.arn('ssm', region, `parameter/${under}*`)] },
    ];
  });

/** `dynamodb:` tables: the item reads on each table, named or given by ARN. */
const tables: Section = (config, arns) =>
  config.tables.map(({ table, region }) => ({
    actions: READ_ITEMS,
    resources: [table.startsWith('arn:') ? table : arns.arn('dynamodb', region, `table/${table}`)],
  }));

/**
 * Every section of the config. The `secrets:` and `appconfig:` sections get one entry each here once the
 * extension's parsed config has them: Secrets Manager `GetSecretValue` and `DescribeSecret` on the named
 * secrets plus `BatchGetSecretValue`, which names no resource type and so takes `*` (it authorizes each
 * secret through `GetSecretValue`); AppConfig `StartConfigurationSession` and `GetLatestConfiguration` on
 * each `application/…/environment/…/configuration/…`.
 */
const SECTIONS: readonly Section[] = [parameterNames, parameterPaths, tables];

/**
 * The grants a config needs: one per set of actions, its resources in config order, each listed once.
 *
 * @example
 * grantsFor(parseConfig(text, 'config.yaml'), arns);
 * // [{ actions: ['ssm:GetParameters'], resources: ['arn:aws:ssm:us-west-2:123456789012:parameter/p1'] }, …]
 */
export function grantsFor(config: ConfigForGrants, arns: ArnFormatter): Grant[] {
  const merged = new Map<string, { actions: readonly string[]; resources: Set<string> }>();
  for (const section of SECTIONS) {
    for (const grant of section(config, arns)) {
      const id = grant.actions.join(' ');
      let entry = merged.get(id);
      if (!entry) {
        entry = { actions: grant.actions, resources: new Set() };
        merged.set(id, entry);
      }
      for (const r of grant.resources) entry.resources.add(r);
    }
  }
  return [...merged.values()].map((g) => ({ actions: [...g.actions], resources: [...g.resources] }));
}

/** A `:version` or `:label` selector is not part of the parameter's ARN; SSM names hold no `:`. */
function withoutSelector(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(0, colon);
}

/**
 * `name` may be a name, with or without a leading `/`, or a parameter ARN (which names its own region);
 * either may end in a selector.
 */
function parameterArn(arns: ArnFormatter, region: string | undefined, name: string): string {
  // arn:partition:ssm:region:account:parameter/NAME[:selector]: the selector is the seventh field.
  if (name.startsWith('arn:')) return name.split(':').slice(0, 6).join(':');
  return arns.arn('ssm', region, `parameter/${withoutSelector(name).replace(/^\/+/, '')}`);
}

/**
 * The secret behind `/aws/reference/secretsmanager/NAME`: Secrets Manager appends six random characters
 * to the name in the secret's ARN, hence `-??????` (`?` is one character, so `NAME-suffix` is not matched).
 */
function secretArn(arns: ArnFormatter, region: string | undefined, name: string): string {
  return arns.arn('secretsmanager', region, `secret:${name}-??????`);
}

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
  arn(
    service: 'ssm' | 'secretsmanager' | 'dynamodb' | 'appconfig',
    region: string | undefined,
    resource: string,
  ): string;
}

/** One config section's grants. */
type Section = (config: ConfigForGrants, arns: ArnFormatter) => Grant[];

/** SSM's names for Secrets Manager secrets: reading one needs the secret's `GetSecretValue` too. */
const SECRET_REFERENCE = '/aws/reference/secretsmanager/';

const GET_PARAMETERS = ['ssm:GetParameters'];
const GET_PARAMETERS_BY_PATH = ['ssm:GetParametersByPath'];
const GET_SECRET_VALUE = ['secretsmanager:GetSecretValue'];
/** `GetSecretValue` for a value, `DescribeSecret` for the revalidation that tells whether it changed. */
const READ_SECRET = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
/** Names no resource type: it authorizes each secret it returns through `GetSecretValue`. */
const BATCH_GET_SECRETS = ['secretsmanager:BatchGetSecretValue'];
const READ_CONFIGURATION = ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'];
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
 * `secrets:`: reading and revalidating each secret (by name, `NAME-??????` as in {@link secretArn}; by ARN,
 * the ARN as given and with the suffix a partial ARN lacks), and `BatchGetSecretValue`, which takes `*`.
 */
const secrets: Section = (config, arns) => {
  if (config.secrets.length === 0) return [];
  const resources = config.secrets.flatMap(({ id, region }) =>
    id.startsWith('arn:') ? [id, `${id}-??????`] : [secretArn(arns, region, id)],
  );
  return [
    { actions: READ_SECRET, resources },
    { actions: BATCH_GET_SECRETS, resources: ['*'] },
  ];
};

/**
 * `appconfig:`: a session and its polls on each configuration. IAM names a configuration by the ids of its
 * application, environment and profile, which a config written with names does not know at synth: such an
 * entry is granted every configuration of the function's account in its region (`application/*`); an entry
 * written with ids (7 lower-case letters and digits, as AppConfig makes them) gets its own ARN.
 */
const configurations: Section = (config, arns) =>
  config.appconfig.map(({ application, environment, profile, region }) => ({
    actions: READ_CONFIGURATION,
    resources: [
      arns.arn(
        'appconfig',
        region,
        [application, environment, profile].every((id) => APPCONFIG_ID.test(id))
          ? `application/${application}/environment/${environment}/configuration/${profile}`
          : 'application/*',
      ),
    ],
  }));

/** An AppConfig id, as opposed to a name. */
const APPCONFIG_ID = /^[a-z0-9]{7}$/;

/** Every section of the config. */
const SECTIONS: readonly Section[] = [parameterNames, parameterPaths, tables, secrets, configurations];

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

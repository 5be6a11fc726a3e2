import type { IncomingMessage, ServerResponse } from 'node:http';
import { HEADERS } from '@lambda-cache/shared';
import { BodyTooLargeError, header, readBody, sendError, sendJson } from './http.js';

/**
 * The Extensions API, `/2020-01-01/extension/…`, as
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html documents it. This file only
 * speaks HTTP; what each call means for the environment is the host's business.
 */
export const EXTENSIONS_API_PREFIX = '/2020-01-01/extension/';

export const EVENT_TYPES = ['INVOKE', 'SHUTDOWN'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What an extension error post carried: `Lambda-Extension-Function-Error-Type` and the raw body. */
export interface ExtensionError {
  readonly errorType: string;
  readonly body: string;
}

export type RegisterOutcome =
  | { readonly ok: true; readonly identifier: string; readonly body: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly status: number; readonly errorType: string; readonly message: string };

export interface ExtensionsHost {
  register(request: {
    name: string;
    events: readonly EventType[];
    acceptFeatures: readonly string[];
  }): Promise<RegisterOutcome>;
  /** Parks the long poll; `false` when the identifier is unknown. */
  next(identifier: string, res: ServerResponse): boolean;
  initError(identifier: string, error: ExtensionError): boolean;
  exitError(identifier: string, error: ExtensionError): boolean;
}

const MAX_BODY = 1024 * 1024;

function parseEvents(body: Buffer): readonly EventType[] | string {
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    return 'the body is not JSON (expected {"events":["INVOKE","SHUTDOWN"]})';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return 'the body is not a JSON object (expected {"events":["INVOKE","SHUTDOWN"]})';
  }
  const events = (parsed as { events?: unknown }).events ?? [];
  if (!Array.isArray(events)) return '"events" is not an array (expected a list of INVOKE, SHUTDOWN)';
  const valid: EventType[] = [];
  for (const event of events) {
    if (!EVENT_TYPES.includes(event as EventType)) {
      return `unknown event type ${JSON.stringify(event)} (expected INVOKE or SHUTDOWN)`;
    }
    if (!valid.includes(event as EventType)) valid.push(event as EventType);
  }
  return valid;
}

export async function handleExtensionsApi(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  host: ExtensionsHost,
): Promise<void> {
  const method = req.method ?? 'GET';
  const expected = route === 'event/next' ? 'GET' : 'POST';
  if (!['register', 'event/next', 'init/error', 'exit/error'].includes(route)) {
    sendError(res, 404, 'NotFound', `no such Extensions API route: ${EXTENSIONS_API_PREFIX}${route}`);
    return;
  }
  if (method !== expected) {
    sendError(res, 405, 'MethodNotAllowed', `${EXTENSIONS_API_PREFIX}${route} takes ${expected}`);
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req, MAX_BODY);
  } catch (error) {
    if (error instanceof BodyTooLargeError) sendError(res, 413, 'RequestTooLarge', error.message);
    else res.destroy();
    return;
  }

  if (route === 'register') {
    const name = header(req, HEADERS.extensionName)?.trim();
    if (name === undefined || name === '') {
      sendError(res, 400, 'InvalidRequestFormat', `missing the ${HEADERS.extensionName} header`);
      return;
    }
    const events = parseEvents(body);
    if (typeof events === 'string') {
      sendError(res, 400, 'InvalidRequestFormat', events);
      return;
    }
    const acceptFeatures = (header(req, HEADERS.extensionAcceptFeature) ?? '')
      .split(',')
      .map((feature) => feature.trim())
      .filter((feature) => feature !== '');
    const outcome = await host.register({ name, events, acceptFeatures });
    if (outcome.ok) sendJson(res, 200, outcome.body, { [HEADERS.extensionIdentifier]: outcome.identifier });
    else sendError(res, outcome.status, outcome.errorType, outcome.message);
    return;
  }

  const identifier = header(req, HEADERS.extensionIdentifier);
  const unknown = (): void =>
    sendError(
      res,
      403,
      'Extension.UnknownExtensionIdentifier',
      identifier === undefined
        ? `missing the ${HEADERS.extensionIdentifier} header`
        : 'the extension identifier is not registered with this environment',
    );
  if (identifier === undefined) {
    unknown();
    return;
  }
  if (route === 'event/next') {
    if (!host.next(identifier, res)) unknown();
    return;
  }
  const error: ExtensionError = {
    errorType: header(req, HEADERS.extensionErrorType) ?? 'Extension.Unknown',
    body: body.toString('utf8'),
  };
  const known =
    route === 'init/error' ? host.initError(identifier, error) : host.exitError(identifier, error);
  if (known) sendJson(res, 202, { status: 'OK' });
  else unknown();
}

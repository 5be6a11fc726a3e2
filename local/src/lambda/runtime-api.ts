import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, header, readBody, sendError, sendJson } from './http.js';

/**
 * The Runtime API, `/2018-06-01/runtime/…`, as https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 * documents it. This file only speaks HTTP; the host decides what a response means.
 */
export const RUNTIME_API_PREFIX = '/2018-06-01/runtime/';

/** Lambda's limit for a synchronous response (and the request body of an error). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

export const RUNTIME_HEADERS = {
  requestId: 'lambda-runtime-aws-request-id',
  deadlineMs: 'lambda-runtime-deadline-ms',
  functionArn: 'lambda-runtime-invoked-function-arn',
  traceId: 'lambda-runtime-trace-id',
  errorType: 'lambda-runtime-function-error-type',
} as const;

/** A function error as the runtime posts it. */
export interface RuntimeError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

export type PostOutcome = 'accepted' | 'unknown-request' | 'already-answered';

export interface RuntimeHost {
  next(res: ServerResponse): void;
  response(requestId: string, body: Buffer): PostOutcome;
  error(requestId: string, error: RuntimeError): PostOutcome;
  initError(error: RuntimeError): void;
}

/** Reads a posted error body; a body that is not Lambda's shape still becomes one. */
export function parseRuntimeError(body: Buffer, headerType: string | undefined): RuntimeError {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const { errorType, errorMessage, trace } = parsed as Record<string, unknown>;
      return {
        errorType: typeof errorType === 'string' ? errorType : (headerType ?? 'Runtime.Unknown'),
        errorMessage: typeof errorMessage === 'string' ? errorMessage : text,
        ...(Array.isArray(trace) ? { trace: trace.map(String) } : {}),
      };
    }
  } catch {
    // Not JSON: keep the text as the message.
  }
  return { errorType: headerType ?? 'Runtime.Unknown', errorMessage: text };
}

const INVOCATION = /^invocation\/([^/]+)\/(response|error)$/;

export async function handleRuntimeApi(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  host: RuntimeHost,
): Promise<void> {
  const method = req.method ?? 'GET';
  const invocation = INVOCATION.exec(route);
  const known = route === 'invocation/next' || route === 'init/error' || invocation !== null;
  if (!known) {
    sendError(res, 404, 'NotFound', `no such Runtime API route: ${RUNTIME_API_PREFIX}${route}`);
    return;
  }
  const expected = route === 'invocation/next' ? 'GET' : 'POST';
  if (method !== expected) {
    sendError(res, 405, 'MethodNotAllowed', `${RUNTIME_API_PREFIX}${route} takes ${expected}`);
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req, MAX_RESPONSE_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) {
      res.destroy();
      return;
    }
    if (invocation?.[2] === 'response' && invocation[1] !== undefined) {
      host.error(decodeURIComponent(invocation[1]), {
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      });
    }
    sendError(res, 413, 'RequestEntityTooLarge', error.message);
    return;
  }

  if (route === 'invocation/next') {
    host.next(res);
    return;
  }
  const errorType = header(req, RUNTIME_HEADERS.errorType);
  if (route === 'init/error') {
    host.initError(parseRuntimeError(body, errorType));
    sendJson(res, 202, { status: 'OK' });
    return;
  }
  const requestId = decodeURIComponent(invocation?.[1] ?? '');
  const outcome =
    invocation?.[2] === 'response'
      ? host.response(requestId, body)
      : host.error(requestId, parseRuntimeError(body, errorType));
  if (outcome === 'accepted') sendJson(res, 202, { status: 'OK' });
  else if (outcome === 'unknown-request') {
    sendError(res, 400, 'InvalidRequestID', `${requestId} is not the current invocation`);
  } else sendError(res, 403, 'InvalidStateTransition', `invocation ${requestId} was already answered`);
}

/**
 * A small Node runtime for the local Lambda emulator: loads `_HANDLER` from `LAMBDA_TASK_ROOT` and serves
 * the Runtime API loop (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), as Lambda's
 * managed Node runtime does. Started by the emulator as `node bootstrap.js`.
 */
import { type Handler, HandlerLoadError, loadHandler } from './handler.js';

// Built-ins from the runtime, not by ESM imports: an import builds the module's ESM facade, which reads
// every export, and lazy getters load more (`node:http`: Node's bundled undici, about 28 ms of CPU on Node
// 22 and later; `node:util`: about 2 ms). The emulator's runtime must not put that on every Init Duration.
const { Agent, request } = process.getBuiltinModule('node:http');
const { format } = process.getBuiltinModule('node:util');

const RUNTIME_PATH = '/2018-06-01/runtime';
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const [apiHost, apiPort] = (process.env.AWS_LAMBDA_RUNTIME_API ?? '').split(':');

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function call(
  method: 'GET' | 'POST',
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: apiHost,
        port: Number(apiPort),
        method,
        path: `${RUNTIME_PATH}${path}`,
        agent,
        headers:
          body === undefined
            ? headers
            : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

function toLambdaError(error: unknown): LambdaError {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return {
    errorType: typeof error,
    errorMessage: typeof error === 'string' ? error : format('%o', error),
    trace: [],
  };
}

let currentRequestId: string | undefined;

/** The handler's console, in the managed runtime's text format: `<time>\t<request id>\t<LEVEL>\t<message>`. */
function patchConsole(): void {
  const write =
    (level: string) =>
    (...args: unknown[]): void => {
      process.stdout.write(
        `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${format(...args)}\n`,
      );
    };
  console.log = write('INFO');
  console.info = write('INFO');
  console.warn = write('WARN');
  console.error = write('ERROR');
  console.debug = write('DEBUG');
  console.trace = write('TRACE');
}

function header(reply: Reply, name: string): string {
  const value = reply.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** What the handler gets as `context`; `callbackWaitsForEmptyEventLoop` is the handler's to change. */
interface Context {
  readonly awsRequestId: string;
  readonly invokedFunctionArn: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  readonly getRemainingTimeInMillis: () => number;
}

function context(reply: Reply, requestId: string): Context {
  const deadline = Number(header(reply, 'lambda-runtime-deadline-ms'));
  return {
    awsRequestId: requestId,
    invokedFunctionArn: header(reply, 'lambda-runtime-invoked-function-arn'),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: (): number => Math.max(0, deadline - Date.now()),
  };
}

/**
 * Called when the event loop has nothing left to do while a handler runs. The loop only drains when the
 * handler left nothing pending (no socket, no timer), so the runtime's own next request is not in flight.
 */
let onEmptyEventLoop: (() => void) | undefined;
process.on('beforeExit', () => onEmptyEventLoop?.());

/**
 * Runs the handler to its result as Lambda's Node runtime does: an async handler answers when its promise
 * settles; a callback handler answers at `callback(...)` when `context.callbackWaitsForEmptyEventLoop` is
 * false, else once the event loop is empty. A handler that never answers gets `null` when the event loop
 * drains, instead of the process exiting.
 */
function run(handler: Handler, event: unknown, ctx: Context): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let called: { readonly error: unknown; readonly result: unknown } | undefined;
    const settle = (error: unknown, result: unknown): void => {
      if (settled) return;
      settled = true;
      onEmptyEventLoop = undefined;
      if (error !== undefined && error !== null) reject(error);
      else resolve(result);
    };
    onEmptyEventLoop = () => {
      if (called !== undefined) settle(called.error, called.result);
      else settle(undefined, null);
    };
    const callback = (error?: unknown, result?: unknown): void => {
      if (settled || called !== undefined) return;
      called = { error, result };
      if (!ctx.callbackWaitsForEmptyEventLoop) settle(error, result);
    };
    try {
      const returned = handler.length >= 3 ? handler(event, ctx, callback) : handler(event, ctx);
      if (
        handler.length < 3 ||
        (returned !== null && typeof (returned as Promise<unknown>)?.then === 'function')
      ) {
        Promise.resolve(returned).then(
          (result) => settle(undefined, result),
          (error: unknown) => settle(error ?? new Error('the handler rejected without a reason'), undefined),
        );
      }
    } catch (error) {
      settle(error ?? new Error('the handler threw without a reason'), undefined);
    }
  });
}

async function postError(path: string, error: LambdaError): Promise<void> {
  await call('POST', path, JSON.stringify(error), { 'lambda-runtime-function-error-type': error.errorType });
}

async function main(): Promise<void> {
  patchConsole();
  let handler: Handler;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), process.env._HANDLER ?? '');
  } catch (error) {
    const lambdaError =
      error instanceof HandlerLoadError
        ? { ...toLambdaError(error), errorType: error.errorType }
        : toLambdaError(error);
    process.stdout.write(
      `${new Date().toISOString()}\tundefined\tERROR\tUncaught Exception \t${JSON.stringify(lambdaError)}\n`,
    );
    await postError('/init/error', lambdaError);
    process.exit(1);
  }

  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) throw new Error(`invocation/next answered ${next.status}: ${next.body}`);
    const requestId = header(next, 'lambda-runtime-aws-request-id');
    currentRequestId = requestId;
    process.env._X_AMZN_TRACE_ID = header(next, 'lambda-runtime-trace-id');
    const id = encodeURIComponent(requestId);
    try {
      const event: unknown = JSON.parse(next.body);
      const result = await run(handler, event, context(next, requestId));
      await call('POST', `/invocation/${id}/response`, JSON.stringify(result) ?? 'null');
    } catch (error) {
      const lambdaError = toLambdaError(error);
      process.stdout.write(
        `${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(lambdaError)}\n`,
      );
      await postError(`/invocation/${id}/error`, lambdaError);
    }
  }
}

/**
 * Like the managed runtime: an error nobody caught fails the current invocation with
 * `Runtime.UnhandledPromiseRejection` (or the error's type), then the process exits and the environment is
 * replaced.
 */
let crashing = false;
function crash(errorType: string | undefined, reason: unknown): void {
  if (crashing) return;
  crashing = true;
  const error = toLambdaError(reason);
  const lambdaError = errorType === undefined ? error : { ...error, errorType };
  const label = errorType === undefined ? 'Uncaught Exception' : 'Unhandled Promise Rejection';
  process.stdout.write(
    `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\tERROR\t${label} \t${JSON.stringify(lambdaError)}\n`,
  );
  const requestId = currentRequestId;
  const post =
    requestId === undefined
      ? postError('/init/error', lambdaError)
      : postError(`/invocation/${encodeURIComponent(requestId)}/error`, lambdaError);
  const timer = setTimeout(() => process.exit(129), 1000);
  post
    .catch(() => undefined)
    .finally(() => {
      clearTimeout(timer);
      process.exit(129);
    });
}

process.on('unhandledRejection', (reason) => crash('Runtime.UnhandledPromiseRejection', reason));
process.on('uncaughtException', (error) => crash(undefined, error));

main().catch((error: unknown) => {
  process.stderr.write(
    `runtime bootstrap failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});

/**
 * One cold start under the local Lambda emulator, timed from outside the extension and without knowing
 * anything of its code: spawn → `register`, spawn → its first `event/next` (ready), and at that moment
 * its CPU time (utime + stime) and peak RSS from `/proc`.
 *
 * The emulator gives every extension its own `AWS_LAMBDA_RUNTIME_API` (not overridable), so the layer is
 * shadowed: each file of its `extensions/` becomes a two-line `sh` wrapper of the same name that points
 * `AWS_LAMBDA_RUNTIME_API` at a pass-through proxy in this process and `exec`s the original launcher;
 * everything else in the layer is a symlink. The proxy forwards every Extensions API call unchanged and
 * notes when the register and the first `event/next` of each extension arrive. The product and the floor
 * go through the same wrapper and proxy, so their costs cancel in every difference.
 */
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type InitResult, LambdaEmulator } from '@lambda-cache/local';
import { cpuMs, nodePidOf, peakRssMiB } from './processes.js';
import type { SandboxOptions } from './sandbox.js';

const REGISTER = /\/extension\/register$/;
const NEXT = /\/extension\/event\/next$/;

interface Arrival {
  readonly at: number;
  readonly cpuMs: number;
  readonly peakRssMiB: number;
}

/** A pass-through proxy to the emulator's Runtime API that notes each extension's first calls. */
class ApiProxy {
  target = '';
  readonly registered = new Map<string, number>();
  readonly ready = new Map<string, Arrival>();
  readonly #names = new Map<string, string>();
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #server: http.Server;

  private constructor(
    server: http.Server,
    private readonly pidOf: (name: string) => number | undefined,
  ) {
    this.#server = server;
    server.on('request', (req, res) => this.#forward(req, res));
  }

  static async start(pidOf: (name: string) => number | undefined): Promise<ApiProxy> {
    const server = http.createServer();
    server.keepAliveTimeout = 0;
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new ApiProxy(server, pidOf);
  }

  get address(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  #note(req: http.IncomingMessage): boolean {
    const at = performance.now();
    const path = req.url ?? '';
    if (req.method === 'POST' && REGISTER.test(path)) {
      const name = String(req.headers['lambda-extension-name'] ?? '');
      if (!this.registered.has(name)) this.registered.set(name, at);
      return true;
    }
    if (req.method === 'GET' && NEXT.test(path)) {
      const name = this.#names.get(String(req.headers['lambda-extension-identifier'] ?? ''));
      if (name !== undefined && !this.ready.has(name)) {
        // Read now: the extension is blocked on this request, so what /proc says is its cost to ready.
        const launcher = this.pidOf(name);
        const pid = launcher === undefined ? undefined : nodePidOf(launcher);
        let cpu = Number.NaN;
        let peak = Number.NaN;
        try {
          if (pid !== undefined) {
            cpu = cpuMs(pid);
            peak = peakRssMiB(pid);
          }
        } catch {
          // Gone already: the figures stay NaN and the run is reported as such.
        }
        this.ready.set(name, { at, cpuMs: cpu, peakRssMiB: peak });
      }
    }
    return false;
  }

  #forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const isRegister = this.#note(req);
    const [host, port] = this.target.split(':');
    const up = http.request(
      {
        host,
        port: Number(port),
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: this.target },
        agent: this.#agent,
      },
      (upRes) => {
        const id = upRes.headers['lambda-extension-identifier'];
        if (isRegister && typeof id === 'string') {
          this.#names.set(id, String(req.headers['lambda-extension-name'] ?? ''));
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  }

  close(): void {
    this.#server.close();
    this.#server.closeAllConnections();
    this.#agent.destroy();
  }
}

/** The layer with each extension wrapped to talk through `api`; the caller removes the directory. */
async function shadowLayer(layerDir: string, api: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-cache-bench-shadow-'));
  for (const entry of await readdir(layerDir)) {
    if (entry === 'extensions') continue;
    await symlink(join(layerDir, entry), join(dir, entry));
  }
  await mkdir(join(dir, 'extensions'));
  const extensions = await readdir(join(layerDir, 'extensions')).catch(() => [] as string[]);
  for (const name of extensions) {
    const wrapper = join(dir, 'extensions', name);
    const original = join(layerDir, 'extensions', name).replace(/'/g, "'\\''");
    await writeFile(wrapper, `#!/bin/sh\nAWS_LAMBDA_RUNTIME_API='${api}' exec '${original}' "$@"\n`);
    await chmod(wrapper, 0o755);
  }
  return dir;
}

export interface ColdStartOptions {
  readonly layerDir: string;
  readonly functionDir: string;
  /** @default 'index.handler' */
  readonly handler?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly sandbox?: SandboxOptions;
  /** @default 30000 (the figures are wanted even when an init takes longer than Lambda's 10 s) */
  readonly initTimeoutMs?: number;
  /**
   * Time the extension's register, ready and CPU through the wrapper and proxy; off, the layer runs as
   * it is and only the emulator's Init Duration is known. @default true
   */
  readonly observe?: boolean;
}

export interface ColdStart {
  /** The emulator's init result: `initDurationMs` is what Lambda reports as Init Duration. */
  readonly init: InitResult;
  readonly lambda: LambdaEmulator;
  /** The layer's extension (the first, by name); `undefined` for a layer without one, or not observed. */
  readonly extension?: {
    readonly name: string;
    /** Its Node process (not the launcher). */
    readonly pid: number;
    /** Spawn → its register request. */
    readonly registerMs: number;
    /** Spawn → its first `event/next`. */
    readonly readyMs: number;
    /** utime + stime at its first `event/next`. */
    readonly cpuToReadyMs: number;
    /** VmHWM at its first `event/next`. */
    readonly peakRssToReadyMiB: number;
  };
  logs(): string[];
  close(): Promise<void>;
}

/** Starts an environment and runs its init; a failed init is thrown with the last log lines. */
export async function coldStart(opts: ColdStartOptions): Promise<ColdStart> {
  let lambda: LambdaEmulator | undefined;
  const proxy = await ApiProxy.start((name) => lambda?.extensions.find((e) => e.name === name)?.pid);
  let shadow: string | undefined;
  const close = async (): Promise<void> => {
    if (lambda) await lambda.shutdown('spindown').catch(() => undefined);
    proxy.close();
    if (shadow) await rm(shadow, { recursive: true, force: true });
  };
  try {
    const observe = opts.observe ?? true;
    if (observe) shadow = await shadowLayer(opts.layerDir, proxy.address);
    lambda = await LambdaEmulator.create({
      layerDir: shadow ?? opts.layerDir,
      functionDir: opts.functionDir,
      handler: opts.handler ?? 'index.handler',
      env: { ...opts.env },
      initTimeoutMs: opts.initTimeoutMs ?? 30_000,
      ...opts.sandbox,
    });
    proxy.target = lambda.runtimeApi;
    const emulator = lambda;
    const t0 = performance.now();
    const init = await emulator.init();
    const logs = () => emulator.logs.map(String);
    if (!init.ok) {
      throw new Error(
        `init failed (${init.error?.errorType}): ${init.error?.message}\n${logs().slice(-30).join('\n')}`,
      );
    }
    const first = emulator.extensions[0];
    let extension: ColdStart['extension'];
    if (first !== undefined && observe) {
      const registeredAt = proxy.registered.get(first.name);
      const ready = proxy.ready.get(first.name);
      if (registeredAt === undefined || ready === undefined || first.pid === undefined) {
        throw new Error(`the proxy did not see ${first.name} register and ask for its first event`);
      }
      extension = {
        name: first.name,
        pid: nodePidOf(first.pid),
        registerMs: registeredAt - t0,
        readyMs: ready.at - t0,
        cpuToReadyMs: ready.cpuMs,
        peakRssToReadyMiB: ready.peakRssMiB,
      };
    }
    return { init, lambda: emulator, ...(extension ? { extension } : {}), logs, close };
  } catch (err) {
    await close();
    throw err;
  }
}

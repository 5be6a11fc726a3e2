/**
 * Raw HTTP over `net`: for requests no well-behaved client would send (bad methods, invalid bytes,
 * injected CRLF, oversized headers), and to see exactly what the server answers on the wire.
 */
import net from 'node:net';

export interface RawAnswer {
  /** `null` when the server closed the connection without an answer. */
  status: number | null;
  headers: Record<string, string>;
  body: string;
  /** The connection failed (refused, reset before any answer). */
  error?: string;
}

/** Sends `request` bytes on a new connection and reads one answer (by content-length, or until close). */
export function rawRequest(port: number, request: Buffer | string, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    // A HEAD answer announces a length but carries no body.
    const headOnly = Buffer.from(request).subarray(0, 5).toString('latin1').toUpperCase() === 'HEAD ';
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks), error));
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (complete(Buffer.concat(chunks), headOnly)) finish();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.on('close', () => finish());
  });
}

/** Drops interim `1xx` answers (`100 Continue`), which precede the real one. */
function final(data: Buffer): Buffer {
  let rest = data;
  for (let i = 0; i < 10 && /^HTTP\/1\.[01] 1\d\d/.test(rest.subarray(0, 12).toString('latin1')); i++) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    rest = rest.subarray(end + 4);
  }
  return rest;
}

function complete(all: Buffer, headOnly: boolean): boolean {
  const data = final(all);
  if (/^HTTP\/1\.[01] 1\d\d/.test(data.subarray(0, 12).toString('latin1'))) return false;
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  if (headOnly) return true;
  const head = data.subarray(0, end).toString('latin1');
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!length) return /^HTTP\/1\.[01] (204|304)/.test(head);
  return data.length >= end + 4 + Number(length[1]);
}

function parseAnswer(all: Buffer, error: string | undefined): RawAnswer {
  const data = final(all);
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return { status: null, headers: {}, body: '', ...(error ? { error } : {}) };
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return {
    status: status ? Number(status[1]) : null,
    headers,
    body: data.subarray(end + 4).toString('utf8'),
  };
}

/** One kept-alive connection on which requests are sent one after another. */
export class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private closedWith: string | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, c]);
      this.waiter?.();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.closedWith = err.code ?? err.message;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closedWith ??= 'closed';
      this.waiter?.();
    });
  }

  static open(port: number, timeoutMs = 5000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('connect timed out'));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Sends a request and reads its answer; `status: null` when the server closed the connection instead. */
  async request(bytes: string, timeoutMs = 10_000): Promise<RawAnswer> {
    if (this.closedWith === undefined) this.socket.write(bytes);
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000; i++) {
      if (complete(this.buffer, false)) {
        const answer = parseAnswer(this.buffer, undefined);
        this.buffer = Buffer.alloc(0);
        return answer;
      }
      if (this.closedWith !== undefined || Date.now() > deadline) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return { ...parseAnswer(this.buffer, this.closedWith ?? 'timeout'), error: this.closedWith ?? 'timeout' };
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A connection that never reads what the server sends and never closes its side: what a stuck or
 * hostile local process looks like. Only the server can free it (`destroy()` here ends the test's hold).
 */
export function openDeaf(port: number, timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the server's FIN must not make this side close; pause: nothing is ever read.
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.pause();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timed out'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      // A reset by the server later is expected, not a failure of the test process.
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

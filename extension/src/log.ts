/**
 * The extension's log lines: `[lambda-cache] message key=value` by default, one JSON object a line when
 * `AWS_LAMBDA_LOG_FORMAT=JSON` (Lambda's advanced logging controls). Fields carry names, counts, timings
 * and error codes only: callers never pass a parameter, secret or item value.
 */
import type { LogLevel } from '@lambda-cache/shared';

export const LOG_PREFIX = '[lambda-cache]';

export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Written at every level but `none`: the readiness line tests and tools wait for. */
  notice(message: string, fields?: LogFields): void;
  isEnabled(level: Exclude<LogLevel, 'none'>): boolean;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, none: 100 };

export interface LoggerOptions {
  level: LogLevel;
  format: 'text' | 'json';
  /** Where lines go. @default process.stdout */
  write?: (line: string) => void;
  /** Timestamp source for JSON lines. @default Date.now */
  now?: () => number;
}

function fieldText(value: string | number | boolean | null): string {
  // Quote anything with spaces or quotes so a line splits back into its fields unambiguously.
  const text = String(value);
  return /^[^\s"=]*$/.test(text) && text !== '' ? text : JSON.stringify(text);
}

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const now = opts.now ?? Date.now;
  const threshold = RANK[opts.level];
  const emit = (level: string, rank: number, message: string, fields: LogFields | undefined): void => {
    if (rank < threshold) return;
    if (opts.format === 'json') {
      const record: Record<string, unknown> = {
        timestamp: new Date(now()).toISOString(),
        level: level === 'notice' ? 'INFO' : level.toUpperCase(),
        logger: 'lambda-cache',
        message: `${LOG_PREFIX} ${message}`,
      };
      for (const [k, v] of Object.entries(fields ?? {})) if (v !== undefined) record[k] = v;
      write(`${JSON.stringify(record)}\n`);
      return;
    }
    let line = `${LOG_PREFIX} ${level === 'info' || level === 'notice' ? '' : `${level.toUpperCase()} `}${message}`;
    for (const [k, v] of Object.entries(fields ?? {})) if (v !== undefined) line += ` ${k}=${fieldText(v)}`;
    write(`${line}\n`);
  };
  return {
    debug: (m, f) => emit('debug', RANK.debug, m, f),
    info: (m, f) => emit('info', RANK.info, m, f),
    warn: (m, f) => emit('warn', RANK.warn, m, f),
    error: (m, f) => emit('error', RANK.error, m, f),
    notice: (m, f) => emit('notice', RANK.error, m, f),
    isEnabled: (level) => RANK[level] >= threshold,
  };
}

/** Discards everything; for tests and for code paths that run before settings are known. */
export const silentLogger: Logger = createLogger({ level: 'none', format: 'text', write: () => undefined });

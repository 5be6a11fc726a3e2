import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

function capture(level: 'debug' | 'info' | 'warn' | 'error' | 'none', format: 'text' | 'json' = 'text') {
  const lines: string[] = [];
  const logger = createLogger({ level, format, write: (l) => lines.push(l), now: () => 0 });
  return { logger, lines };
}

describe('createLogger', () => {
  it('prefixes text lines and quotes field values with spaces', () => {
    const { logger, lines } = capture('info');
    logger.info('prefetch done', { ms: 12, path: '/a b', skipped: undefined });
    logger.warn('slow');
    expect(lines).toEqual(['[lambda-cache] prefetch done ms=12 path="/a b"\n', '[lambda-cache] WARN slow\n']);
  });

  it('drops lines below the level and keeps the readiness line unless the level is none', () => {
    const { logger, lines } = capture('error');
    logger.info('hidden');
    logger.warn('hidden');
    logger.notice('listening on http://127.0.0.1:1');
    expect(lines).toEqual(['[lambda-cache] listening on http://127.0.0.1:1\n']);
    const none = capture('none');
    none.logger.notice('listening');
    none.logger.error('x');
    expect(none.lines).toEqual([]);
  });

  it('writes one JSON object a line when the format is JSON', () => {
    const { logger, lines } = capture('debug', 'json');
    logger.debug('d', { n: 1 });
    expect(JSON.parse(lines[0] as string)).toEqual({
      timestamp: '1970-01-01T00:00:00.000Z',
      level: 'DEBUG',
      logger: 'lambda-cache',
      message: '[lambda-cache] d',
      n: 1,
    });
  });
});

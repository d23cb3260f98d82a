import { Writable } from 'node:stream';
import pino from 'pino';
import { AppLogger } from './app-logger';

describe(AppLogger.name, () => {
  const capture = (level = 'info') => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { logger: new AppLogger(pino({ level }, stream)), lines };
  };

  it('writes a string message with the caller context last', () => {
    const { logger, lines } = capture();
    logger.log('Nest application successfully started', 'NestApplication');
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'Nest application successfully started', context: 'NestApplication' })]);
  });

  it('makes an object message the line fields and an Error its err', () => {
    const { logger, lines } = capture();
    logger.warn({ msg: 'ai call failed', requestId: 'r-1', code: 'LLM_TIMEOUT' }, 'LlmService');
    logger.error(new Error('boom'), 'ChatTurnRunner');
    expect(lines[0]).toMatchObject({ level: 40, msg: 'ai call failed', requestId: 'r-1', code: 'LLM_TIMEOUT', context: 'LlmService' });
    expect(lines[1]).toMatchObject({ level: 50, context: 'ChatTurnRunner', err: { type: 'Error', message: 'boom' } });
  });

  it("keeps the stack Nest's exception handlers pass as a string", () => {
    const { logger, lines } = capture();
    logger.error('Unhandled', 'Error: Unhandled\n    at handler (app.js:1:1)', 'ExceptionsHandler');
    expect(lines[0]).toMatchObject({ level: 50, context: 'ExceptionsHandler', err: { message: 'Unhandled', stack: 'Error: Unhandled\n    at handler (app.js:1:1)' } });
  });

  it('maps verbose to trace and writes nothing below the level', () => {
    const { logger, lines } = capture('debug');
    logger.verbose('too fine', 'X');
    logger.debug('kept', 'X');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[20, 'kept']]);
  });
});

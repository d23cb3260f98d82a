import fastify, { FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import { request as httpRequest } from 'node:http';
import pino from 'pino';
import { useRequestLog } from './request-log';

describe(useRequestLog.name, () => {
  let app: FastifyInstance;
  let base: string;
  const lines: Record<string, unknown>[] = [];
  let releaseSlow: () => void = () => undefined;

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    app = fastify({ genReqId: (req) => String(req.headers['x-request-id'] ?? 'generated') });
    useRequestLog(app, pino(stream));
    app.addHook('preHandler', (request, _reply, done) => {
      (request as unknown as { user: { id: string } }).user = { id: 'user-1' };
      done();
    });
    app.get('/ok', () => ({ ok: true }));
    app.get('/missing', (_request, reply) => reply.code(404).send({ error: 'nope' }));
    app.get('/broken', () => {
      throw new Error('broken');
    });
    app.get('/slow', () => new Promise((resolve) => (releaseSlow = () => resolve({ late: true }))));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());
  beforeEach(() => (lines.length = 0));

  const lineFor = async (id: string) => {
    for (let i = 0; i < 100 && !lines.some((l) => l.requestId === id); i++) await new Promise((r) => setTimeout(r, 10));
    return lines.filter((l) => l.requestId === id);
  };

  it('writes one line per response, with the id, user, status and time, and echoes the id', async () => {
    const res = await fetch(`${base}/ok`, { headers: { 'x-request-id': 'req-ok' } });
    expect(res.headers.get('x-request-id')).toBe('req-ok');
    expect(await lineFor('req-ok')).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        req: { id: 'req-ok', method: 'GET', url: '/ok' },
        userId: 'user-1',
        res: { statusCode: 200 },
        responseTime: expect.any(Number) as number,
      }),
    ]);
  });

  it('logs a 4xx as a warning and a 5xx as an error', async () => {
    await fetch(`${base}/missing`, { headers: { 'x-request-id': 'req-404' } });
    await fetch(`${base}/broken`, { headers: { 'x-request-id': 'req-500' } });
    expect(await lineFor('req-404')).toEqual([expect.objectContaining({ level: 40, res: { statusCode: 404 } })]);
    expect(await lineFor('req-500')).toEqual([expect.objectContaining({ level: 50, res: { statusCode: 500 } })]);
  });

  it('logs a request whose client left before the answer as aborted', async () => {
    const req = httpRequest(`${base}/slow`, { headers: { 'x-request-id': 'req-gone' } });
    req.on('error', () => undefined).end();
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    const [line] = await lineFor('req-gone');
    releaseSlow();
    expect(line).toMatchObject({ level: 40, msg: 'request aborted', req: { url: '/slow' }, res: { statusCode: null } });
  });
});

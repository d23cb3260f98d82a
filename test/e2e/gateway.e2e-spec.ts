import { JwtService } from '@nestjs/jwt';
import type { Socket } from 'socket.io-client';
import { AiGateway } from '../../src/ai/stream/ai.gateway';
import { userRoom } from '../../src/realtime/realtime.constants';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { eventually } from '../support/eventually';
import { startTestApp, TestApp } from '../support/test-app';
import { TEST_JWT_SECRET } from '../support/test-env';
import { connectSocket, joinChunkEvents, recordEvents, streamedText, waitForEvent, waitForTerminal } from '../support/ws-client';

const anyId = expect.stringMatching(/^[0-9a-f-]{36}$/);

describe('AI gateway /ai (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  const sockets: Socket[] = [];

  const connect = async (user: TestUser) => {
    const socket = await connectSocket(t.url, user.accessToken);
    sockets.push(socket);
    return { socket, events: recordEvents(socket) };
  };

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl });
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  describe('handshake', () => {
    const jwt = new JwtService();
    it.each([
      ['no token', () => undefined],
      ['a forged token', () => jwt.sign({ sub: 'x', email: 'e', typ: 'access' }, { secret: 'some-other-secret-0123456789' })],
      ['an expired token', () => jwt.sign({ sub: 'x', email: 'e', typ: 'access', exp: Math.floor(Date.now() / 1000) - 5 }, { secret: TEST_JWT_SECRET })],
      ['garbage', () => 'garbage'],
    ])('refuses %s with connect_error Unauthorized', async (_label, token) => {
      await expect(connectSocket(t.url, token())).rejects.toThrow('Unauthorized');
    });

    it('refuses a refresh token', async () => {
      const user = await registerUser(t);
      await expect(connectSocket(t.url, user.refreshToken)).rejects.toThrow('Unauthorized');
    });
  });

  it('streams a first turn with the events in order, stores it and counts its tokens', async () => {
    const user = await registerUser(t);
    const { socket, events } = await connect(user);
    fake.enqueue({ chunks: ['Nest', 'JS is ', 'great.'], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
    // The guide's payload, userId included (ignored: the socket's user is the token's).
    socket.emit('chat:start', { userId: 'your-user-id', message: 'Explain NestJS', conversationId: null, model: 'gpt-4', maxTokens: 4096, temperature: 0.7 });
    await waitForTerminal(events);

    const { conversationId, streamId } = events[0].data;
    const end = events.at(-1)!;
    // Part 1's events; the stream named where it starts, its chunk events numbered 1, 2, 3...
    const chunkEvents = events.filter((e) => e.event === 'chat:message').length;
    expect(joinChunkEvents(events)).toEqual([
      { event: 'chat:conversation', data: { conversationId: anyId, streamId: anyId } },
      { event: 'chat:user-message', data: { messageId: anyId, content: 'Explain NestJS', conversationId, streamId } },
      { event: 'chat:message', data: { content: 'NestJS is great.', conversationId, seq: chunkEvents, streamId } },
      // gpt-4 at $30 / $60 per million tokens: 10 × 30 + 5 × 60 = 600 millionths of a dollar.
      { event: 'chat:end', data: { totalTokens: 15, model: 'gpt-4', costUsd: 0.0006, messageId: anyId, conversationId } },
    ]);
    expect(fake.chatRequests()[0].body).toMatchObject({
      model: 'gpt-4',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Explain NestJS' }],
    });
    const conversation = await t.prisma.conversation.findUniqueOrThrow({
      where: { id: conversationId },
      include: { messages: { orderBy: { createdAt: 'asc' } } },
    });
    expect(conversation).toMatchObject({ userId: user.id, title: 'Explain NestJS', messageCount: 2, totalTokens: 15 });
    expect(conversation.messages.map((m) => [m.id, m.role, m.content, m.tokens, m.status, m.tokensEstimated])).toEqual([
      [events[1].data.messageId, 'USER', 'Explain NestJS', null, 'complete', false],
      [end.data.messageId, 'ASSISTANT', 'NestJS is great.', 15, 'complete', false],
    ]);
    const me = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(me.totalTokensUsed).toBe(15);
  });

  it('continues a conversation with its history and no chat:conversation event', async () => {
    const user = await registerUser(t);
    const { socket, events } = await connect(user);
    socket.emit('chat:start', { message: 'first' });
    const { data } = await waitForEvent(events, 'chat:end');
    events.length = 0;
    fake.reset();
    socket.emit('chat:start', { message: 'second', conversationId: data.conversationId });
    await waitForTerminal(events);
    expect(events.map((e) => e.event)).not.toContain('chat:conversation');
    expect(events.at(-1)!.event).toBe('chat:end');
    expect(fake.chatRequests()[0].body.messages).toEqual([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'Echo: first' },
      { role: 'user', content: 'second' },
    ]);
  });

  it('chat:stop aborts the upstream at once, stores the partial answer as stopped and counts it', async () => {
    const user = await registerUser(t);
    const { socket, events } = await connect(user);
    fake.enqueue({ chunks: Array.from({ length: 200 }, (_, i) => `w${i} `), chunkDelayMs: 20 });
    socket.emit('chat:start', { message: 'long answer please' });
    await eventually(() => events.filter((e) => e.event === 'chat:message').length >= 3);
    socket.emit('chat:stop');
    const stopped = await waitForTerminal(events);
    expect(stopped).toEqual({ event: 'chat:stopped', data: { conversationId: anyId, messageId: anyId } });
    await fake.waitFor((f) => f.abortCount() === 1);
    expect(fake.chatRequests()[0].aborted).toBe(true);

    const message = await t.prisma.message.findUniqueOrThrow({ where: { id: stopped.data.messageId } });
    expect(message).toMatchObject({ role: 'ASSISTANT', status: 'stopped', content: streamedText(events), tokensEstimated: true });
    expect(message.content.length).toBeGreaterThan(0);
    expect(message.tokens).toBeGreaterThan(0);
    const me = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(me.totalTokensUsed).toBe(message.tokens);
    // No more chunks after the terminal event.
    const count = events.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events).toHaveLength(count);
  });

  it('a disconnect mid-stream aborts the upstream and keeps the partial answer', async () => {
    const user = await registerUser(t);
    const { socket, events } = await connect(user);
    fake.enqueue({ chunks: Array.from({ length: 200 }, (_, i) => `d${i} `), chunkDelayMs: 20 });
    socket.emit('chat:start', { message: 'then I leave' });
    await eventually(() => events.filter((e) => e.event === 'chat:message').length >= 2);
    socket.disconnect();
    await fake.waitFor((f) => f.abortCount() === 1);
    const message = await eventually(() => t.prisma.message.findFirst({ where: { role: 'ASSISTANT', conversation: { userId: user.id } } }));
    expect(message.status).toBe('stopped');
    expect(message.content.startsWith(streamedText(events))).toBe(true);
    expect(message.content.split(' ').length).toBeLessThan(200);
  });

  it('refuses a second chat:start while one runs; the first goes on', async () => {
    const user = await registerUser(t);
    const { socket, events } = await connect(user);
    fake.enqueue({ chunks: ['a', 'b', 'c', 'd'], chunkDelayMs: 30 });
    socket.emit('chat:start', { message: 'one' });
    socket.emit('chat:start', { message: 'two' });
    await waitForEvent(events, 'chat:end');
    expect(events.filter((e) => e.event === 'chat:error')).toEqual([
      { event: 'chat:error', data: { message: 'A stream is already running on this connection', code: 409 } },
    ]);
    expect(streamedText(events)).toBe('abcd');
    expect(fake.chatRequests()).toHaveLength(1);
    expect(await t.prisma.message.count({ where: { conversation: { userId: user.id } } })).toBe(2);
  });

  it.each([
    ['an empty object', {}],
    ['a string', 'hello'],
    ['an empty message', { message: '' }],
    ['a wrong type', { message: 'hi', maxTokens: 'many' }],
    ['an unknown field', { message: 'hi', admin: true }],
    ['a malformed conversationId', { message: 'hi', conversationId: 'abc' }],
    ['a too long message', { message: 'x'.repeat(32_001) }],
  ])('answers %s with chat:error 400 and stores nothing', async (_label, payload) => {
    const user = await registerUser(t);
    const { socket, events } = await connect(user);
    socket.emit('chat:start', payload);
    const error = await waitForTerminal(events);
    expect(error).toEqual({ event: 'chat:error', data: { message: expect.any(String), code: 400 } });
    expect(events).toHaveLength(1);
    expect(fake.chatRequests()).toHaveLength(0);
    expect(await t.prisma.conversation.count({ where: { userId: user.id } })).toBe(0);
  });

  it("answers another user's conversationId with chat:error 404", async () => {
    const owner = await registerUser(t);
    const intruder = await registerUser(t);
    const { body } = await t.http.post('/api/v1/ai/conversations').set(owner.auth).send({ title: 'mine' }).expect(201);
    const { socket, events } = await connect(intruder);
    socket.emit('chat:start', { message: 'hi', conversationId: body.id, userId: owner.id });
    expect(await waitForTerminal(events)).toEqual({ event: 'chat:error', data: { message: 'Conversation not found', code: 404 } });
    expect(await t.prisma.message.count({ where: { conversationId: body.id } })).toBe(0);
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('answers a used-up budget with chat:error 403', async () => {
    const user = await registerUser(t);
    await t.prisma.user.update({ where: { id: user.id }, data: { tokenLimit: 10, totalTokensUsed: 10 } });
    const { socket, events } = await connect(user);
    socket.emit('chat:start', { message: 'hi' });
    expect(await waitForTerminal(events)).toEqual({ event: 'chat:error', data: { message: 'Token limit exceeded', code: 403 } });
  });

  it('estimates and marks the tokens when the upstream sends no usage', async () => {
    const user = await registerUser(t);
    const { socket, events } = await connect(user);
    fake.enqueue({ content: 'An answer without usage.', noUsage: true });
    socket.emit('chat:start', { message: 'hi' });
    const end = await waitForEvent(events, 'chat:end');
    expect(end.data.totalTokens).toBeGreaterThan(0);
    const message = await t.prisma.message.findUniqueOrThrow({ where: { id: end.data.messageId } });
    expect(message).toMatchObject({ tokens: end.data.totalTokens, tokensEstimated: true });
  });

  it('stores the partial answer as failed when the upstream drops mid-stream', async () => {
    const user = await registerUser(t);
    const { socket, events } = await connect(user);
    fake.enqueue({ chunks: ['part', 'ial ', 'answer', ' never', ' ends'], dropAfterChunks: 3 });
    socket.emit('chat:start', { message: 'hi' });
    const error = await waitForTerminal(events);
    expect(error).toEqual({ event: 'chat:error', data: { message: 'The AI provider is unavailable', code: 502 } });
    const messages = await t.prisma.message.findMany({ where: { conversation: { userId: user.id } }, orderBy: { createdAt: 'asc' } });
    expect(messages.map((m) => [m.role, m.content, m.status, m.tokens])).toEqual([
      ['USER', 'hi', 'complete', null],
      ['ASSISTANT', 'partial answer', 'failed', null],
    ]);
    const me = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(me.totalTokensUsed).toBe(0);
  });
});

describe('AI gateway limits and instances (e2e)', () => {
  let fake: FakeLlm;

  beforeAll(async () => {
    fake = await startFakeLlm();
  });
  afterAll(() => fake.close());

  it('shares the per-user rate limit with REST and answers chat:error 429', async () => {
    const t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_RATE_LIMIT: '2' });
    const user = await registerUser(t);
    const own = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(own);
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'rest' }).expect(201);
      own.emit('chat:start', { message: 'ws 1' });
      await waitForEvent(events, 'chat:end');
      events.length = 0;
      own.emit('chat:start', { message: 'ws 2' });
      expect(await waitForTerminal(events)).toEqual({ event: 'chat:error', data: { message: 'Too many requests', code: 429 } });
      expect(await t.prisma.message.count({ where: { conversation: { userId: user.id } } })).toBe(4);
    } finally {
      own.close();
      await t.close();
    }
  });

  it('spans instances through the Redis adapter: sockets on either instance stream and are seen by both', async () => {
    const shared = { OPENAI_BASE_URL: fake.baseUrl, REDIS_PREFIX: `multi${Date.now()}` };
    const a = await startTestApp(shared);
    const b = await startTestApp(shared);
    const sockets: Socket[] = [];
    try {
      const user = await registerUser(a);
      for (const instance of [a, b]) {
        const socket = await connectSocket(instance.url, user.accessToken);
        sockets.push(socket);
        const events = recordEvents(socket);
        socket.emit('chat:start', { message: `via ${instance.url}` });
        expect((await waitForTerminal(events)).event).toBe('chat:end');
      }
      // Each instance sees both of the user's sockets, and a broadcast from one reaches both.
      for (const instance of [a, b]) {
        const room = instance.app.get(AiGateway).server.in(userRoom(user.id));
        expect((await room.fetchSockets()).map((s) => s.id).sort()).toEqual(sockets.map((s) => s.id).sort());
      }
      const received = sockets.map((socket) => new Promise((resolve) => socket.once('notice', resolve)));
      b.app.get(AiGateway).server.to(userRoom(user.id)).emit('notice', { from: 'b' });
      expect(await Promise.all(received)).toEqual([{ from: 'b' }, { from: 'b' }]);
    } finally {
      sockets.forEach((s) => s.close());
      await a.close();
      await b.close();
    }
  });
});

describe('AI gateway shutdown (e2e)', () => {
  let fake: FakeLlm;

  beforeAll(async () => {
    fake = await startFakeLlm();
  });
  afterAll(() => fake.close());

  it('lets a short stream finish, aborts a long one after the grace period and stores both', async () => {
    const t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, SHUTDOWN_GRACE_MS: '300' });
    const user = await registerUser(t);
    const short = await connectSocket(t.url, user.accessToken);
    const long = await connectSocket(t.url, user.accessToken);
    const shortEvents = recordEvents(short);
    const longEvents = recordEvents(long);
    fake.enqueue({ chunks: ['quick', ' one'], chunkDelayMs: 100 }, { chunks: Array.from({ length: 100 }, (_, i) => `x${i} `), chunkDelayMs: 30 });
    short.emit('chat:start', { message: 'short' });
    await waitForEvent(shortEvents, 'chat:message');
    long.emit('chat:start', { message: 'long' });
    await waitForEvent(longEvents, 'chat:message');

    await t.close();

    expect(shortEvents.at(-1)!.event).toBe('chat:end');
    const stopped = longEvents.at(-1)!;
    expect(stopped.event).toBe('chat:stopped');
    short.close();
    long.close();
    // The app is closed: read the rows through a fresh client of this run's database.
    const { PrismaClient } = await import('../../src/generated/prisma/client.js');
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: t.env.DATABASE_URL! }) });
    try {
      const messages = await prisma.message.findMany({ where: { role: 'ASSISTANT', conversation: { userId: user.id } } });
      expect(messages.map((m) => [m.content, m.status]).sort()).toEqual(
        [
          ['quick one', 'complete'],
          [streamedText(longEvents), 'stopped'],
        ].sort(),
      );
    } finally {
      await prisma.$disconnect();
    }
    expect(fake.abortCount()).toBe(1);
  });
});

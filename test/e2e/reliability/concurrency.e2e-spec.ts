import type { Socket } from 'socket.io-client';
import type { Prisma } from '../../../src/generated/prisma/client';
import { releaseTogether } from '../../support/barrier';
import { FakeLlm, startFakeLlm } from '../../support/fake-llm.mjs';
import { eventually } from '../../support/eventually';
import { drainQueue } from '../../support/queue';
import { registerUser, TestUser } from '../../support/factories';
import { startTestApp, TestApp } from '../../support/test-app';
import { connectSocket, recordEvents, RecordedEvent, waitForTerminal } from '../../support/ws-client';

// Many calls of one user at the same instant: the rate limit and the token budget must hold
// exactly, whatever the interleaving. (Two instances sharing them: instances.e2e-spec.)

async function openSockets(t: TestApp, user: TestUser, count: number): Promise<Array<{ socket: Socket; events: RecordedEvent[] }>> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const socket = await connectSocket(t.url, user.accessToken);
      return { socket, events: recordEvents(socket) };
    }),
  );
}

describe('the per-user rate limit under a burst (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_RATE_LIMIT: '20' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('lets exactly AI_RATE_LIMIT of 50 calls released at once through, across chat, embeddings, jobs and streams', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const sockets = await openSockets(t, user, 10);
    try {
      const kinds = [
        { path: '/api/v1/ai/chat', body: { message: 'burst' }, ok: 201 },
        { path: '/api/v1/ai/embeddings', body: { text: 'burst' }, ok: 200 },
        { path: '/api/v1/ai/jobs/embeddings', body: { text: 'burst' }, ok: 202 },
        { path: '/api/v1/ai/jobs/completion', body: { message: 'burst' }, ok: 202 },
      ];
      const requests = Array.from({ length: 40 }, (_, i) => ({ method: 'POST', path: kinds[i % 4].path, headers: user.auth, body: kinds[i % 4].body }));
      const released = releaseTogether(t.url, requests);
      for (const { socket } of sockets) socket.emit('chat:start', { message: 'burst' });
      const responses = await released;
      const terminals = await Promise.all(sockets.map(({ events }) => waitForTerminal(events)));

      const passedHttp = responses.filter((r, i) => r.status === kinds[i % 4].ok).length;
      const refusedHttp = responses.filter((r) => r.status === 429);
      const passedStreams = terminals.filter((e) => e.event === 'chat:end').length;
      const refusedStreams = terminals.filter((e) => e.event === 'chat:error');
      expect(passedHttp + passedStreams).toBe(20);
      expect(refusedHttp.length + refusedStreams.length).toBe(30);
      for (const r of refusedHttp) expect(r.body).toEqual({ statusCode: 429, message: 'Too many requests', error: 'Too Many Requests' });
      for (const e of refusedStreams) expect(e.data).toEqual({ message: 'Too many requests', code: 429 });
      // The other user's window is untouched.
      await t.http.post('/api/v1/ai/chat').set(other.auth).send({ message: 'mine' }).expect(201);
    } finally {
      sockets.forEach(({ socket }) => socket.close());
      await drainQueue(t);
    }
  });
});

describe('the token budget under concurrent calls (e2e)', () => {
  const TURN_TOKENS = 30;
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_RATE_LIMIT: '1000' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  async function spentUser(limit: number, used: number): Promise<TestUser> {
    const user = await registerUser(t);
    await t.prisma.user.update({ where: { id: user.id }, data: { tokenLimit: limit, totalTokensUsed: used } });
    return user;
  }

  async function storedTokens(userId: string): Promise<number> {
    const [messages, embeddings] = await Promise.all([
      t.prisma.message.aggregate({ where: { conversation: { userId } }, _sum: { tokens: true } }),
      t.prisma.usageRecord.aggregate({ where: { userId, kind: 'embedding' }, _sum: { tokens: true } }),
    ]);
    return (messages._sum.tokens ?? 0) + (embeddings._sum.tokens ?? 0);
  }

  it('20 concurrent chats, streams and embeddings against a nearly spent budget overshoot it by less than one turn', async () => {
    const LIMIT = 10_000;
    const START = LIMIT - 40;
    const user = await spentUser(LIMIT, START);
    fake.setDefault({ delayMs: 100, usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: TURN_TOKENS } });
    const sockets = await openSockets(t, user, 6);
    try {
      const requests = [
        ...Array.from({ length: 8 }, () => ({ method: 'POST', path: '/api/v1/ai/chat', headers: user.auth, body: { message: 'spend' } })),
        ...Array.from({ length: 6 }, () => ({ method: 'POST', path: '/api/v1/ai/embeddings', headers: user.auth, body: { text: 'spend' } })),
      ];
      const released = releaseTogether(t.url, requests);
      for (const { socket } of sockets) socket.emit('chat:start', { message: 'spend' });
      const responses = await released;
      const terminals = await Promise.all(sockets.map(({ events }) => waitForTerminal(events)));

      for (const r of responses) {
        expect([200, 201, 403]).toContain(r.status);
        if (r.status === 403) expect(r.body).toEqual({ statusCode: 403, message: 'Token limit exceeded', error: 'Forbidden' });
      }
      for (const e of terminals) {
        if (e.event !== 'chat:end') expect(e).toEqual({ event: 'chat:error', data: { message: 'Token limit exceeded', code: 403 } });
      }
      const passed = responses.filter((r) => r.status !== 403).length + terminals.filter((e) => e.event === 'chat:end').length;
      const me = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
      // The bound: whatever the interleaving, at most one turn's tokens past the limit.
      expect(me.totalTokensUsed - LIMIT).toBeLessThanOrEqual(TURN_TOKENS);
      expect(passed).toBeGreaterThanOrEqual(1);
      expect(me.totalTokensUsed).toBe(START + passed * TURN_TOKENS);
      expect(me.totalTokensUsed - START).toBe(await storedTokens(user.id));
      expect(me.reservedTokens).toBe(0);
      // The model is asked while the hold is taken; a turn whose hold lost the race cancels its
      // request, so only admitted chats got an answer from the upstream.
      const chatsPassed = responses.slice(0, 8).filter((r) => r.status !== 403).length + terminals.filter((e) => e.event === 'chat:end').length;
      await eventually(() => fake.chatRequests().every((r) => r.closedAt !== null));
      expect(fake.chatRequests().filter((r) => !r.aborted)).toHaveLength(chatsPassed);
      // What is left stays usable, one call at a time, until the limit is reached.
      fake.setDefault({ usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: TURN_TOKENS } });
      let status = 201;
      for (let i = 0; i < 3 && status === 201; i++) status = (await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'one more' })).status;
      expect(status).toBe(403);
      const after = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
      expect(after.totalTokensUsed).toBeGreaterThanOrEqual(LIMIT);
      expect(after.totalTokensUsed - LIMIT).toBeLessThanOrEqual(TURN_TOKENS);
    } finally {
      sockets.forEach(({ socket }) => socket.close());
    }
  });

  it('still runs several turns at once while the budget covers their worst case', async () => {
    const LIMIT = 10_000;
    const START = LIMIT - 300;
    const user = await spentUser(LIMIT, START);
    // maxTokens bounds each turn's completion, so a turn's worst case is small here.
    fake.setDefault({ delayMs: 500, usage: { prompt_tokens: 5, completion_tokens: 20, total_tokens: 25 } });
    const responses = await releaseTogether(
      t.url,
      Array.from({ length: 20 }, () => ({ method: 'POST', path: '/api/v1/ai/chat', headers: user.auth, body: { message: 'hi', maxTokens: 20 } })),
    );
    const passed = responses.filter((r) => r.status === 201).length;
    expect(responses.filter((r) => r.status === 403)).toHaveLength(20 - passed);
    // Not serialised: admitted turns ran upstream at the same time.
    const intervals = fake.chatRequests().map((r) => [r.receivedAt, r.closedAt ?? Infinity] as const);
    const maxOverlap = Math.max(...intervals.map(([start]) => intervals.filter(([s, end]) => s <= start && start < end).length));
    expect(passed).toBeGreaterThan(1);
    expect(maxOverlap).toBeGreaterThan(1);
    const me = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(me.totalTokensUsed).toBe(START + passed * 25);
    expect(me.totalTokensUsed - LIMIT).toBeLessThanOrEqual(25);
    expect(me.reservedTokens).toBe(0);
  });

  it('counts a live hold against the budget, and drops holds left behind once they lapse', async () => {
    const user = await spentUser(10_000, 10_000 - 100);
    // As if another call of this user were in flight, holding the rest of the budget.
    await t.prisma.user.update({ where: { id: user.id }, data: { reservedTokens: 100, reservationExpiresAt: new Date(Date.now() + 60_000) } });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'wait your turn' }).expect(403);
    // As if that call's instance had died (SIGKILL) and TOKEN_HOLD_TTL_MS had passed.
    await t.prisma.user.update({ where: { id: user.id }, data: { reservationExpiresAt: new Date(Date.now() - 1_000) } });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'my turn' }).expect(201);
    expect(await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ reservedTokens: 0 });
  });

  it('returns the hold of a failed call: a refused upstream leaves the whole budget usable', async () => {
    const user = await spentUser(10_000, 10_000 - 100);
    fake.enqueue({ status: 500 }, { status: 500 });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'fails' }).expect(502);
    await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'fails' }).expect(502);
    const me = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(me).toMatchObject({ totalTokensUsed: 10_000 - 100, reservedTokens: 0 });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'works' }).expect(201);
  });

  // The model is asked while the turn's hold is taken and its question stored. A turn whose hold is
  // refused at that point (another call took the rest of the budget after the pre-flight read, or the
  // conversation went) must cancel the request already sent and store nothing.
  describe('a turn refused after its request went out', () => {
    // Holds the user's row locked (so the turn's hold waits on it) until the turn's request reached
    // the upstream, then applies `change` and commits: the hold then sees the changed data.
    function whileTurnWaits(userId: string, change: (tx: Prisma.TransactionClient) => Promise<unknown>) {
      return t.prisma.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT 1 FROM "User" WHERE "id" = ${userId}::uuid FOR UPDATE`;
          await fake.waitFor((f) => f.chatRequests().length === 1);
          await change(tx);
        },
        { timeout: 10_000 },
      );
    }

    async function storedState(userId: string) {
      const [me, conversations, messages] = await Promise.all([
        t.prisma.user.findUniqueOrThrow({ where: { id: userId } }),
        t.prisma.conversation.findMany({ where: { userId } }),
        t.prisma.message.count({ where: { conversation: { userId } } }),
      ]);
      return { totalTokensUsed: me.totalTokensUsed, reservedTokens: me.reservedTokens, conversations: conversations.length, messages };
    }

    it('REST: a hold refused because the budget went meanwhile gives 403, cancels the request and stores nothing', async () => {
      const user = await registerUser(t);
      fake.setDefault({ delayMs: 2_000 });
      const spend = whileTurnWaits(user.id, (tx) => tx.user.update({ where: { id: user.id }, data: { totalTokensUsed: { increment: 1_000_000 } } }));
      const upstreamErrors = async () => (await t.http.get('/metrics').expect(200)).text.match(/^ai_upstream_errors_total\b.*$/gm);
      const errorsBefore = await upstreamErrors();
      const response = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'too late' });
      await spend;
      expect(response.status).toBe(403);
      expect(response.body).toEqual({ statusCode: 403, message: 'Token limit exceeded', error: 'Forbidden' });
      await fake.waitFor((f) => f.abortCount() === 1);
      // The cancelled request is not an upstream failure for the dashboards.
      expect(await upstreamErrors()).toEqual(errorsBefore);
      expect(await storedState(user.id)).toMatchObject({ reservedTokens: 0, conversations: 0, messages: 0 });
    });

    it('socket: the same race ends the stream with chat:error 403 before any other event', async () => {
      const user = await registerUser(t);
      const { id: conversationId } = await t.prisma.conversation.create({ data: { userId: user.id, title: 'kept' } });
      fake.setDefault({ delayMs: 2_000 });
      const socket = await connectSocket(t.url, user.accessToken);
      try {
        const events = recordEvents(socket);
        const spend = whileTurnWaits(user.id, (tx) => tx.user.update({ where: { id: user.id }, data: { totalTokensUsed: { increment: 1_000_000 } } }));
        socket.emit('chat:start', { message: 'too late', conversationId });
        await spend;
        await waitForTerminal(events);
        expect(events).toEqual([{ event: 'chat:error', data: { message: 'Token limit exceeded', code: 403 } }]);
        await fake.waitFor((f) => f.abortCount() === 1);
        expect(await storedState(user.id)).toMatchObject({ reservedTokens: 0, conversations: 1, messages: 0 });
      } finally {
        socket.close();
      }
    });

    it('a conversation deleted while the hold waited gives 404 and returns the hold', async () => {
      const user = await registerUser(t);
      const { id: conversationId } = await t.prisma.conversation.create({ data: { userId: user.id, title: 'going' } });
      fake.setDefault({ delayMs: 2_000 });
      const remove = whileTurnWaits(user.id, (tx) => tx.conversation.delete({ where: { id: conversationId } }));
      const response = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'anyone there?', conversationId });
      await remove;
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      await fake.waitFor((f) => f.abortCount() === 1);
      expect(await storedState(user.id)).toMatchObject({ totalTokensUsed: 0, reservedTokens: 0, conversations: 0, messages: 0 });
    });
  });
});

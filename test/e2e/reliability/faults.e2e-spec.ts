import { FakeOpenAi, startFakeOpenAi } from '../../support/fake-openai.mjs';
import { registerUser } from '../../support/factories';
import { startTestApp, TestApp } from '../../support/test-app';
import { connectSocket, recordEvents, streamedText, waitForEvent, waitForTerminal } from '../../support/ws-client';

// Faults of the upstream. Already proven elsewhere (see docs/reliability.md): upstream 4xx/429/500
// mapping with the user message kept (ai-chat), 504 on a hang (ai-chat), a dropped stream stored as
// `failed` (gateway), SIGTERM mid-stream (ops).

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const startedAt = Date.now();
  const value = await work();
  return { value, ms: Date.now() - startedAt };
}

describe('upstream faults (e2e)', () => {
  let fake: FakeOpenAi;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, OPENAI_MAX_RETRIES: '2', OPENAI_TIMEOUT_MS: '400' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('retries an upstream 500 OPENAI_MAX_RETRIES times, then answers 502 keeping the user message and counting nothing', async () => {
    const user = await registerUser(t);
    const down = { status: 500, headers: { 'retry-after-ms': '5' } };
    fake.enqueue(down, down, down);
    const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'are you there?' }).expect(502);
    expect(res.body).toEqual({ statusCode: 502, message: 'The AI provider is unavailable', error: 'Bad Gateway' });
    expect(fake.chatRequests()).toHaveLength(3);
    const messages = await t.prisma.message.findMany({ where: { conversation: { userId: user.id } } });
    expect(messages.map((m) => [m.role, m.content])).toEqual([['USER', 'are you there?']]);
    expect((await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).totalTokensUsed).toBe(0);
  });

  it('ends a stream whose upstream stalls mid-answer with chat:error 504 after OPENAI_TIMEOUT_MS and stores the partial answer as failed', async () => {
    const user = await registerUser(t);
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      fake.enqueue({ chunks: ['first ', 'words ', 'then silence'], chunkDelayMs: 10_000 });
      socket.emit('chat:start', { message: 'stall please' });
      await waitForEvent(events, 'chat:message');
      const { value: terminal, ms } = await timed(() => waitForTerminal(events, 5_000));
      expect(terminal).toEqual({ event: 'chat:error', data: { message: 'The AI provider timed out', code: 504 } });
      expect(ms).toBeLessThan(2_000);
      await fake.waitFor((f) => f.abortCount() === 1);
      const stored = await t.prisma.message.findFirstOrThrow({ where: { role: 'ASSISTANT', conversation: { userId: user.id } } });
      expect(stored).toMatchObject({ status: 'failed', content: streamedText(events), tokens: null });
    } finally {
      socket.close();
    }
  });
});

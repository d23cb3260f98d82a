import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { ChatStreamService } from '../../src/ai/stream/chat-stream.service';
import { eventually } from '../support/eventually';
import type { Json } from '../support/json';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, joinChunkEvents, RecordedEvent, recordEvents, streamedText, waitForEvent, waitForTerminal } from '../support/ws-client';

const anyId = expect.stringMatching(/^[0-9a-f-]{36}$/);

// A long answer in numbered words, so any gap, repeat or reordering shows in the text.
const ANSWER = Array.from({ length: 60 }, (_, i) => `w${i + 1}`).join(' ');
// 58 chunks of 4 characters or fewer.
const CHUNKS = ANSWER.match(/.{1,4}/gs)!;
const slow = (chunkDelayMs = 25) => ({ chunks: CHUNKS, chunkDelayMs, usage: { prompt_tokens: 7, completion_tokens: CHUNKS.length, total_tokens: 7 + CHUNKS.length } });

interface SseEvent {
  event: string;
  id?: string;
  data: Json;
}

// Reads a text/event-stream response event by event; `close()` cuts the connection.
function readSse(res: Response): { events: SseEvent[]; comments: string[]; done: Promise<void>; close(): void } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const controller = new AbortController();
  const reader = res.body!.getReader();
  controller.signal.addEventListener('abort', () => void reader.cancel().catch(() => undefined));
  const decoder = new TextDecoder();
  let buffered = '';
  const done = (async () => {
    try {
      for (;;) {
        const { value, done: isDone } = await reader.read();
        if (isDone) return;
        buffered += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event: Partial<SseEvent> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('data: ')) event.data = JSON.parse(line.slice(6));
          }
          if (event.event) events.push(event as SseEvent);
        }
      }
    } catch {
      // Cut by close().
    }
  })();
  return { events, comments, done, close: () => controller.abort() };
}

const sseText = (events: SseEvent[]) =>
  events
    .filter((e) => e.event === 'message')
    .map((e) => e.data.content)
    .join('');

const seqs = (events: RecordedEvent[]) => events.filter((e) => e.event === 'chat:message').map((e) => e.data.seq);
// from, from + 1, …, to: how a stream's chunk events are numbered (how many there are depends on
// how the chunks reached the service: those that arrive together leave as one event).
const counting = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// Two api instances on the same PostgreSQL, Redis and REDIS_PREFIX, as behind a load balancer.
describe('durable streams across instances (e2e)', () => {
  let fake: FakeLlm;
  let a: TestApp;
  let b: TestApp;
  const sockets: Socket[] = [];

  const connect = async (instance: TestApp, user: TestUser) => {
    const socket = await connectSocket(instance.url, user.accessToken);
    sockets.push(socket);
    return { socket, events: recordEvents(socket) };
  };

  const storedAnswer = (conversationId: string) => a.prisma.message.findFirst({ where: { conversationId, role: 'ASSISTANT' } });

  beforeAll(async () => {
    fake = await startFakeLlm();
    const shared = { OPENAI_BASE_URL: fake.baseUrl, REDIS_PREFIX: `durable${randomUUID().slice(0, 6)}`, AI_SSE_HEARTBEAT_MS: '100', PROCESS_ROLE: 'api' };
    [a, b] = await Promise.all([startTestApp(shared), startTestApp(shared)]);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await Promise.all([a.close(), b.close()]);
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('names the stream where it starts and numbers its chunks, plain stream or not; Part 1 shapes otherwise', async () => {
    const user = await registerUser(a);
    const { socket, events } = await connect(a, user);
    fake.enqueue({ chunks: ['Nest', 'JS'], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    socket.emit('chat:start', { message: 'hi' });
    await waitForTerminal(events);
    const { conversationId, streamId } = events[0].data;
    expect(joinChunkEvents(events)).toEqual([
      { event: 'chat:conversation', data: { conversationId: anyId, streamId: anyId } },
      { event: 'chat:user-message', data: { messageId: anyId, content: 'hi', conversationId, streamId } },
      { event: 'chat:message', data: { content: 'NestJS', conversationId, seq: seqs(events).length, streamId } },
      { event: 'chat:end', data: { totalTokens: 5, model: 'gpt-4', costUsd: expect.any(Number), messageId: anyId, conversationId } },
    ]);
    // Not resumable: nothing is kept once it ended.
    const { socket: other, events: otherEvents } = await connect(b, user);
    other.emit('chat:resume', { streamId, lastSeq: 0 });
    expect(await waitForTerminal(otherEvents)).toEqual({ event: 'chat:error', data: { message: 'Stream not found', code: 404 } });
  });

  it('resumes a running stream on the other instance: the missed chunks in order, exactly once, then the live ones, then chat:end', async () => {
    const user = await registerUser(a);
    const first = await connect(a, user);
    fake.enqueue(slow());
    first.socket.emit('chat:start', { message: 'tell me', resumable: true });
    await eventually(() => seqs(first.events).length >= 5, 5_000, 5);
    first.socket.close();
    const { streamId, conversationId } = first.events.find((e) => e.event === 'chat:user-message')!.data;
    const lastSeq = Math.max(...seqs(first.events));
    // Chunks go on while nobody listens.
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Listed as running on either instance, for a second tab to attach.
    const listed = await b.http.get('/api/v1/ai/streams').set(user.auth).expect(200);
    expect(listed.body).toEqual([{ streamId, conversationId, startedAt: expect.any(String), resumable: true }]);

    const second = await connect(b, user);
    const firstResumed = new Promise<number>((resolve) => second.socket.once('chat:message', () => resolve(Date.now())));
    second.socket.emit('chat:resume', { streamId, lastSeq });
    const terminal = await waitForTerminal(second.events, 10_000);
    expect(terminal).toEqual({
      event: 'chat:end',
      data: { totalTokens: 7 + CHUNKS.length, model: 'gpt-4', costUsd: expect.any(Number), messageId: anyId, conversationId },
    });
    const resumedSeqs = seqs(second.events);
    expect(resumedSeqs).toEqual(counting(lastSeq + 1, resumedSeqs.at(-1)));
    expect(streamedText(first.events) + streamedText(second.events)).toBe(ANSWER);
    expect(second.events.find((e) => e.event === 'chat:message')!.data).toEqual({ content: expect.any(String), conversationId, seq: lastSeq + 1, streamId });
    // The replay did not wait for the end: it came while the upstream was still answering.
    expect(await firstResumed).toBeLessThan(fake.chatRequests()[0].closedAt!);
    expect(fake.chatRequests()[0].aborted).toBe(false);

    // Generated and stored whole although its socket left.
    expect(await storedAnswer(conversationId)).toMatchObject({ content: ANSWER, status: 'complete' });
    expect((await b.http.get('/api/v1/ai/streams').set(user.auth).expect(200)).body).toEqual([]);
  });

  it('resumes an ended stream: the missed chunks and the terminal event at once; from 0 the whole answer', async () => {
    const user = await registerUser(a);
    const first = await connect(a, user);
    fake.enqueue(slow(0));
    first.socket.emit('chat:start', { message: 'quick', resumable: true });
    await waitForTerminal(first.events);
    const { streamId, conversationId } = first.events[1].data;

    const second = await connect(b, user);
    const sent = seqs(first.events).length;
    const lastSeq = Math.max(0, sent - 2);
    second.socket.emit('chat:resume', { streamId, lastSeq });
    await waitForTerminal(second.events);
    expect(seqs(second.events)).toEqual(counting(lastSeq + 1, sent));
    expect(second.events.slice(0, -1)).toEqual(first.events.filter((e) => e.event === 'chat:message').slice(lastSeq));
    expect(second.events.at(-1)).toEqual(first.events.at(-1));
    expect(second.events).toHaveLength(sent - lastSeq + 1);

    const third = await connect(a, user);
    third.socket.emit('chat:resume', { streamId });
    await waitForTerminal(third.events);
    expect(streamedText(third.events)).toBe(ANSWER);
    expect(third.events.at(-1)).toEqual(first.events.at(-1));
    expect(third.events.at(-1)!.data.conversationId).toBe(conversationId);
  });

  it('takes the next chat:start on the socket as soon as a resumable stream has sent its end', async () => {
    const user = await registerUser(a);
    const { socket, events } = await connect(a, user);
    socket.once('chat:end', () => socket.emit('chat:start', { message: 'second', resumable: true }));
    socket.emit('chat:start', { message: 'first', resumable: true });
    await eventually(() => events.filter((e) => e.event === 'chat:end').length === 2, 5_000);
    expect(events.filter((e) => e.event === 'chat:error')).toEqual([]);
  });

  it('sends nothing twice when a socket resumes the stream it is running itself', async () => {
    const user = await registerUser(a);
    const { socket, events } = await connect(a, user);
    fake.enqueue(slow(5));
    socket.emit('chat:start', { message: 'mine', resumable: true });
    await eventually(() => seqs(events).length >= 3, 5_000, 5);
    socket.emit('chat:resume', { streamId: events[1].data.streamId, lastSeq: 0 });
    await waitForTerminal(events);
    expect(seqs(events)).toEqual(counting(1, seqs(events).length));
    expect(streamedText(events)).toBe(ANSWER);
    expect(events.filter((e) => e.event === 'chat:end')).toHaveLength(1);
  });

  it("refuses to resume another user's, an unknown or an invalid stream", async () => {
    const owner = await registerUser(a);
    const intruder = await registerUser(a);
    const first = await connect(a, owner);
    fake.enqueue(slow(0));
    first.socket.emit('chat:start', { message: 'mine', resumable: true });
    await waitForTerminal(first.events);
    const { streamId } = first.events[1].data;

    const other = await connect(b, intruder);
    other.socket.emit('chat:resume', { streamId, lastSeq: 0 });
    expect(await waitForTerminal(other.events)).toEqual({ event: 'chat:error', data: { message: 'Stream not found', code: 404 } });
    other.events.length = 0;
    other.socket.emit('chat:resume', { streamId: randomUUID(), lastSeq: 0 });
    expect(await waitForTerminal(other.events)).toEqual({ event: 'chat:error', data: { message: 'Stream not found', code: 404 } });
    other.events.length = 0;
    other.socket.emit('chat:resume', { streamId: 'nope', lastSeq: -1 });
    expect((await waitForTerminal(other.events)).data).toMatchObject({ code: 400 });
    expect(other.events.filter((e) => e.event === 'chat:message')).toEqual([]);

    // Nor over SSE, nor its stop.
    await b.http.get(`/api/v1/ai/streams/${streamId}/events`).set(intruder.auth).expect(404);
    await b.http.post(`/api/v1/ai/streams/${streamId}/stop`).set(intruder.auth).expect(404);
    await b.http.post(`/api/v1/ai/streams/${randomUUID()}/stop`).set(owner.auth).expect(404);
    await b.http.post('/api/v1/ai/streams/not-a-uuid/stop').set(owner.auth).expect(400);
  });

  it('a disconnect keeps a resumable stream going (stored whole) and stops a plain one (partial stored as stopped)', async () => {
    const user = await registerUser(a);
    const resumable = await connect(a, user);
    const plain = await connect(a, user);
    fake.enqueue(slow(), slow());
    resumable.socket.emit('chat:start', { message: 'keep going', resumable: true });
    plain.socket.emit('chat:start', { message: 'stop when I go' });
    await eventually(() => seqs(resumable.events).length >= 3 && seqs(plain.events).length >= 3, 5_000, 5);
    resumable.socket.close();
    plain.socket.close();
    const kept = resumable.events[1].data.conversationId;
    const cut = plain.events[1].data.conversationId;
    await eventually(async () => (await storedAnswer(kept))?.status === 'complete', 10_000, 20);
    await eventually(async () => (await storedAnswer(cut))?.status === 'stopped', 5_000, 20);
    expect((await storedAnswer(kept))!.content).toBe(ANSWER);
    expect((await storedAnswer(cut))!.content.length).toBeLessThan(ANSWER.length);
    expect(fake.abortCount()).toBe(1);
  });

  it('chat:stop { streamId } from a socket on the other instance stops the stream where it runs', async () => {
    const user = await registerUser(a);
    const runner = await connect(a, user);
    fake.enqueue(slow());
    runner.socket.emit('chat:start', { message: 'long one', resumable: true });
    await eventually(() => seqs(runner.events).length >= 3, 5_000, 5);
    const { streamId, conversationId } = runner.events[1].data;

    // Another user's socket cannot.
    const intruder = await registerUser(a);
    const stranger = await connect(b, intruder);
    stranger.socket.emit('chat:stop', { streamId });
    expect(await waitForTerminal(stranger.events)).toEqual({ event: 'chat:error', data: { message: 'Stream not found', code: 404 } });

    const remote = await connect(b, user);
    remote.socket.emit('chat:stop', { streamId });
    expect(await waitForEvent(runner.events, 'chat:stopped')).toEqual({ event: 'chat:stopped', data: { conversationId, messageId: anyId } });
    await fake.waitFor((f) => f.abortCount() === 1);
    const stored = await storedAnswer(conversationId);
    expect(stored).toMatchObject({ status: 'stopped', content: streamedText(runner.events) });
    expect(stored!.content.length).toBeLessThan(ANSWER.length);
    // The stopper was not watching it and gets nothing.
    expect(remote.events).toEqual([]);
  });

  it('POST /streams/:id/stop on the other instance answers 202 and stops it: readers get chat:stopped', async () => {
    const user = await registerUser(a);
    const runner = await connect(a, user);
    fake.enqueue(slow());
    runner.socket.emit('chat:start', { message: 'long plain one' });
    await eventually(() => seqs(runner.events).length >= 3, 5_000, 5);
    const { streamId, conversationId } = runner.events[1].data;
    expect((await b.http.get('/api/v1/ai/streams').set(user.auth).expect(200)).body).toEqual([
      { streamId, conversationId, startedAt: expect.any(String), resumable: false },
    ]);

    await b.http.post(`/api/v1/ai/streams/${streamId}/stop`).set(user.auth).expect(202);
    await waitForEvent(runner.events, 'chat:stopped');
    await fake.waitFor((f) => f.abortCount() === 1);
    expect(await storedAnswer(conversationId)).toMatchObject({ status: 'stopped' });
    expect((await a.http.get('/api/v1/ai/streams').set(user.auth).expect(200)).body).toEqual([]);
  });

  it('stopUserStreams stops every running stream of a user on every instance, and no one else’s', async () => {
    const user = await registerUser(a);
    const bystander = await registerUser(a);
    const onA = await connect(a, user);
    const onB = await connect(b, user);
    const other = await connect(b, bystander);
    fake.setDefault(slow());
    onA.socket.emit('chat:start', { message: 'one', resumable: true });
    onB.socket.emit('chat:start', { message: 'two' });
    other.socket.emit('chat:start', { message: 'three' });
    await eventually(() => [onA, onB, other].every((c) => seqs(c.events).length >= 2), 5_000, 5);

    await a.app.get(ChatStreamService).stopUserStreams(user.id);
    await waitForEvent(onA.events, 'chat:stopped');
    await waitForEvent(onB.events, 'chat:stopped');
    expect((await waitForTerminal(other.events, 10_000)).event).toBe('chat:end');
  });

  it('a resumable stream cut by its instance shutting down ends with chat:stopped for its readers elsewhere', async () => {
    const c = await startTestApp({ ...a.env, SHUTDOWN_GRACE_MS: '100' });
    try {
      const user = await registerUser(a);
      const runner = await connect(c, user);
      fake.enqueue(slow());
      runner.socket.emit('chat:start', { message: 'until the restart', resumable: true });
      await eventually(() => seqs(runner.events).length >= 3, 5_000, 5);
      const { streamId, conversationId } = runner.events[1].data;
      const reader = await connect(b, user);
      reader.socket.emit('chat:resume', { streamId, lastSeq: 0 });
      await eventually(() => seqs(reader.events).length >= 3, 5_000, 5);
      await c.close();
      expect(await waitForTerminal(reader.events)).toEqual({ event: 'chat:stopped', data: { conversationId, messageId: anyId } });
      expect(await storedAnswer(conversationId)).toMatchObject({ status: 'stopped', content: streamedText(reader.events) });
    } finally {
      await c.close().catch(() => undefined);
    }
  });

  describe('Server-Sent Events', () => {
    const post = (instance: TestApp, user: TestUser, body: unknown, signal?: AbortSignal) =>
      fetch(`${instance.url}/api/v1/ai/chat/stream`, {
        method: 'POST',
        headers: { ...user.auth, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal,
      });

    it('streams a turn with the socket events under SSE names and ids, and stores it', async () => {
      const user = await registerUser(a);
      fake.enqueue({ chunks: ['Hel', 'lo'], usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 } });
      const res = await post(a, user, { message: 'hello' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
      const sse = readSse(res);
      await sse.done;
      const { conversationId, streamId } = sse.events[0].data;
      const sent = sse.events.filter((e) => e.event === 'message').length;
      expect(sse.events.filter((e) => e.event === 'message').map((e) => e.id)).toEqual(counting(1, sent).map(String));
      expect(joinChunkEvents(sse.events)).toEqual([
        { event: 'conversation', data: { conversationId: anyId, streamId: anyId } },
        { event: 'user-message', data: { messageId: anyId, content: 'hello', conversationId, streamId } },
        { event: 'message', id: String(sent), data: { content: 'Hello', conversationId, seq: sent, streamId } },
        { event: 'end', data: { totalTokens: 4, model: 'gpt-4', costUsd: expect.any(Number), messageId: anyId, conversationId } },
      ]);
      expect(await storedAnswer(conversationId)).toMatchObject({ content: 'Hello', status: 'complete', tokens: 4 });
    });

    it('answers refusals before the stream as JSON errors, nothing stored', async () => {
      const user = await registerUser(a);
      const owner = await registerUser(a);
      const { body: conversation } = await a.http.post('/api/v1/ai/conversations').set(owner.auth).send({}).expect(201);
      const invalid = await post(a, user, { message: '' });
      expect(invalid.status).toBe(400);
      expect(await invalid.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      const foreign = await post(a, user, { message: 'hi', conversationId: conversation.id });
      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toEqual({ statusCode: 404, message: 'Conversation not found', error: 'Not Found' });
      const anonymous = await fetch(`${a.url}/api/v1/ai/chat/stream`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"message":"hi"}' });
      expect(anonymous.status).toBe(401);
      expect(fake.chatRequests()).toHaveLength(0);
      expect(await a.prisma.message.count({ where: { conversation: { userId: user.id } } })).toBe(0);
    });

    it('holds nothing for a client that reads slowly: what it could not take is read from the log at its pace, in order', async () => {
      const user = await registerUser(a);
      // 200 chunks of 32 kB: far more than the socket buffers hold while the client does not read.
      const big = Array.from({ length: 200 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(32_764)}`);
      fake.enqueue({ chunks: big, usage: { prompt_tokens: 1, completion_tokens: 200, total_tokens: 201 } });
      const res = await post(a, user, { message: 'a lot' });
      // The answer is generated and stored whole while the client has read nothing yet.
      const answer = await eventually(async () => {
        const conversation = await a.prisma.conversation.findFirst({ where: { userId: user.id } });
        return conversation && storedAnswer(conversation.id);
      }, 20_000);
      expect(answer.content).toBe(big.join(''));
      const sse = readSse(res);
      await sse.done;
      const messages = sse.events.filter((e) => e.event === 'message');
      expect(messages.map((e) => Number(e.id))).toEqual(counting(1, messages.length));
      expect(sseText(sse.events)).toBe(big.join(''));
      expect(sse.events.at(-1)!.event).toBe('end');
    }, 30_000);

    it('goes on when the connection is cut, and resumes on the other instance from Last-Event-ID (or ?lastSeq)', async () => {
      const user = await registerUser(a);
      fake.enqueue(slow());
      const cut = new AbortController();
      const first = readSse(await post(a, user, { message: 'sse please' }, cut.signal));
      await eventually(() => first.events.filter((e) => e.event === 'message').length >= 5, 5_000, 5);
      cut.abort();
      first.close();
      await first.done;
      const { streamId, conversationId } = first.events[1].data;
      const lastId = first.events.filter((e) => e.event === 'message').at(-1)!.id!;
      // Heartbeat comments keep an idle connection open through proxies.
      const idle = readSse(await fetch(`${b.url}/api/v1/ai/streams/${streamId}/events`, { headers: { ...user.auth, 'Last-Event-ID': lastId } }));
      await idle.done;
      expect(sseText(first.events) + sseText(idle.events)).toBe(ANSWER);
      const ids = idle.events.filter((e) => e.event === 'message').map((e) => Number(e.id));
      expect(ids).toEqual(counting(Number(lastId) + 1, ids.at(-1)!));
      expect(idle.events.at(-1)).toEqual({ event: 'end', data: expect.objectContaining({ conversationId, totalTokens: 7 + CHUNKS.length }) });
      expect(idle.comments).toContain(': ping');
      expect(await storedAnswer(conversationId)).toMatchObject({ content: ANSWER, status: 'complete' });

      // After the end: ?lastSeq= replays from there at once.
      const sent = ids.at(-1)!;
      const again = readSse(await fetch(`${a.url}/api/v1/ai/streams/${streamId}/events?lastSeq=${sent - 2}`, { headers: user.auth }));
      await again.done;
      expect(again.events.map((e) => e.id ?? e.event)).toEqual([String(sent - 1), String(sent), 'end']);
      await a.http.get(`/api/v1/ai/streams/${streamId}/events?lastSeq=-1`).set(user.auth).expect(400);
      await a.http
        .get(`/api/v1/ai/streams/${streamId}/events`)
        .set({ ...user.auth, 'Last-Event-ID': 'x' })
        .expect(400);
      await a.http.get(`/api/v1/ai/streams/${streamId}/events`).expect(401);
    });
  });
});

// The fake upstream (test/support/fake-llm.mjs) against the real Anthropic and Gemini SDKs: what
// they send, and that what the fake answers reads to them as the real APIs would (text, usage,
// streams, errors, aborts, drops). No app here; the service's own providers are tested through it.
import Anthropic, { AnthropicError, APIConnectionError, APIError as AnthropicApiError } from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { ApiError as GeminiApiError, GenerateContentResponse, GoogleGenAI } from '@google/genai';
import { FakeLlm, RecordedRequest, startFakeLlm } from '../support/fake-llm.mjs';

/** The fake's token count: a message's text / 4 rounded up, plus 3 per message. */
const promptTokens = (...texts: string[]) => texts.reduce((sum, text) => sum + Math.ceil(text.length / 4) + 3, 0);
const textTokens = (text: string) => Math.ceil(text.length / 4);

/**
 * @google/genai's Node build sends through Node's own undici dispatcher, which it looks up on
 * globalThis[Symbol.for('undici.globalDispatcher.1')]. Node puts it on the main realm's global
 * object, and Jest runs each test file in a realm of its own: without this every call fails with
 * "fetch failed", cause "Undici globalDispatcher is not available". `fetch` comes from the main
 * realm, so its constructor is the main realm's Function.
 */
function shareUndiciDispatcher(): void {
  const key = Symbol.for('undici.globalDispatcher.1');
  new Headers(); // makes Node load undici, which installs its global dispatcher
  const mainRealm = (fetch.constructor as FunctionConstructor)('return globalThis')() as Record<symbol, unknown>;
  const here = globalThis as unknown as Record<symbol, unknown>;
  here[key] ??= mainRealm[key];
}

/** The rejection of `promise`, or a failure if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('fake LLM upstream through the Anthropic and Gemini SDKs (e2e)', () => {
  let fake: FakeLlm;
  let anthropic: Anthropic;
  let gemini: GoogleGenAI;

  beforeAll(async () => {
    shareUndiciDispatcher();
    fake = await startFakeLlm();
    anthropic = new Anthropic({ apiKey: 'sk-ant-fake', baseURL: fake.anthropicBaseUrl, maxRetries: 0 });
    gemini = new GoogleGenAI({ apiKey: 'gemini-fake-key', httpOptions: { baseUrl: fake.geminiBaseUrl } });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const only = (records: RecordedRequest[]): RecordedRequest => {
    expect(records).toHaveLength(1);
    return records[0];
  };

  it('serves the three APIs on one port: the OpenAI base URL ends in /v1, the others are the origin', () => {
    const origin = `http://127.0.0.1:${fake.port}`;
    expect(fake.baseUrl).toBe(`${origin}/v1`);
    expect(fake.anthropicBaseUrl).toBe(origin);
    expect(fake.geminiBaseUrl).toBe(origin);
  });

  it('shares one behaviour queue between the providers, consumed in arrival order', async () => {
    fake.enqueue({ content: 'first' }, { content: 'second' }, { content: 'third' });
    const message = await anthropic.messages.create({ model: 'claude-fake', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    const generated = await gemini.models.generateContent({ model: 'gemini-fake', contents: 'hi' });
    const chat = await fetch(`${fake.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] }),
    }).then((res) => res.json() as Promise<{ choices: { message: { content: string } }[] }>);

    expect([message.content, generated.text, chat.choices[0].message.content]).toEqual([[expect.objectContaining({ text: 'first' })], 'second', 'third']);
    expect(fake.requests.map((r) => [r.provider, r.model])).toEqual([
      ['anthropic', 'claude-fake'],
      ['gemini', 'gemini-fake'],
      ['openai', 'gpt-fake'],
    ]);
    expect([fake.anthropicRequests(), fake.geminiRequests(), fake.chatRequests()].map((list) => list.map((r) => r.id))).toEqual(fake.requests.map((r) => [r.id]));
  });

  it("writes each provider's SSE wire format: Anthropic's named events with a ping, Gemini's CRLF-separated data lines", async () => {
    fake.enqueue({ chunks: ['a'] }, { chunks: ['a'] });
    const post = (url: string, body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((res) => res.text());
    const anthropicWire = await post(`${fake.anthropicBaseUrl}/v1/messages`, {
      model: 'claude-fake',
      max_tokens: 8,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const geminiWire = await post(`${fake.geminiBaseUrl}/v1beta/models/gemini-fake:streamGenerateContent?alt=sse`, { contents: [{ parts: [{ text: 'hi' }] }] });

    const anthropicEvents = anthropicWire.split('\n\n').filter(Boolean);
    expect(anthropicEvents.map((e) => e.split('\n')[0])).toEqual(
      ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'].map((name) => `event: ${name}`),
    );
    expect(anthropicEvents[2]).toBe('event: ping\ndata: {"type":"ping"}');
    expect(geminiWire).toMatch(/^data: \{"candidates":.*\}\r\n\r\n$/);
  });

  describe('Anthropic Messages (@anthropic-ai/sdk)', () => {
    const params = {
      model: 'claude-fake',
      max_tokens: 64,
      temperature: 0.2,
      system: 'Be brief.',
      messages: [
        { role: 'user' as const, content: 'Hello' },
        { role: 'assistant' as const, content: 'Hi' },
        { role: 'user' as const, content: 'How are you?' },
      ],
    };
    const inputTokens = promptTokens('Be brief.', 'Hello', 'Hi', 'How are you?');

    it('answers a message with the echoed text, end_turn and the usage, and records what the SDK sent', async () => {
      const message = await anthropic.messages.create(params);

      expect(message).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: 'claude-fake',
        content: [{ type: 'text', text: 'Echo: How are you?' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: inputTokens, output_tokens: textTokens('Echo: How are you?') },
      });
      expect(message.id).toMatch(/^msg_/);
      const request = only(fake.anthropicRequests());
      expect(request).toMatchObject({ provider: 'anthropic', method: 'POST', path: '/v1/messages', model: 'claude-fake', finished: true, aborted: false });
      expect(request.body).toEqual(params);
      // @anthropic-ai/sdk 1.x sends the API key as a bearer token, not as x-api-key.
      expect(request.headers.authorization).toBe('Bearer sk-ant-fake');
      expect(request.headers['x-api-key']).toBeUndefined();
      expect(request.headers['anthropic-version']).toMatch(/^\d{4}-\d\d-\d\d$/);
    });

    it('applies the content, model, usage and finish-reason overrides, or leaves the usage out', async () => {
      fake.enqueue({ content: 'Short.', model: 'claude-other', usage: { prompt_tokens: 100, completion_tokens: 7 }, finishReason: 'length' }, { noUsage: true });
      const message = await anthropic.messages.create(params);
      expect(message).toMatchObject({ model: 'claude-other', content: [{ text: 'Short.' }], stop_reason: 'max_tokens', usage: { input_tokens: 100, output_tokens: 7 } });

      const bare = await anthropic.messages.create(params);
      expect(bare.content).toEqual([{ type: 'text', text: 'Echo: How are you?' }]);
      expect(bare).not.toHaveProperty('usage');
    });

    it('streams the deltas in order through messages.stream(), with the final usage', async () => {
      fake.enqueue({ chunks: ['Hel', 'lo', ' world'] });
      const stream = anthropic.messages.stream(params);
      const deltas: string[] = [];
      stream.on('text', (delta) => deltas.push(delta));
      const message = await stream.finalMessage();

      expect(deltas).toEqual(['Hel', 'lo', ' world']);
      expect(message).toMatchObject({
        content: [{ type: 'text', text: 'Hello world' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: inputTokens, output_tokens: textTokens('Hello world') },
      });
      expect(only(fake.anthropicRequests()).body).toEqual({ ...params, stream: true });
    });

    it("sends Anthropic's event sequence to create({ stream: true })", async () => {
      fake.enqueue({ chunks: ['a', 'b'], usage: { completion_tokens: 9 } });
      const events: RawMessageStreamEvent[] = [];
      for await (const event of await anthropic.messages.create({ ...params, stream: true })) events.push(event);

      expect(events.map((e) => e.type)).toEqual([
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      expect(events[0]).toMatchObject({ message: { role: 'assistant', content: [], usage: { input_tokens: inputTokens } } });
      expect(events[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      expect(events[2]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'a' } });
      expect(events[5]).toEqual({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 9 } });
    });

    it.each([
      [400, 'invalid_request_error', 'BadRequestError'],
      [401, 'authentication_error', 'AuthenticationError'],
      [429, 'rate_limit_error', 'RateLimitError'],
      [500, 'api_error', 'InternalServerError'],
      [529, 'overloaded_error', 'OverloadedError'],
    ])('turns status %i into the SDK error %s / %s, without a retry', async (status, type, errorClass) => {
      fake.enqueue({ status, error: { message: `nope ${status}` } }, { content: 'a retry would get this' });
      const err = await rejectionOf(anthropic.messages.create(params));

      expect(err).toBeInstanceOf(AnthropicApiError);
      const apiError = err as AnthropicApiError;
      expect(apiError.constructor.name).toBe(errorClass);
      expect(apiError.status).toBe(status);
      expect(apiError.type).toBe(type);
      expect(apiError.apiMessage).toBe(`nope ${status}`);
      expect(apiError.requestID).toBe(`req_fake_${fake.requests[0].id}`);
      expect(fake.anthropicRequests()).toHaveLength(1);
    });

    it('answers a request without max_tokens with a 400 invalid_request_error', async () => {
      const err = await rejectionOf(anthropic.messages.create({ ...params, max_tokens: undefined as unknown as number }));
      expect(err).toMatchObject({ status: 400, type: 'invalid_request_error', apiMessage: expect.stringContaining('max_tokens') });
    });

    it('surfaces a mid-stream error event as an APIError of its type, after the deltas before it', async () => {
      fake.enqueue({ chunks: ['a', 'b', 'c'], streamError: { afterChunks: 1, status: 529 } });
      const deltas: string[] = [];
      const stream = await anthropic.messages.create({ ...params, stream: true });
      const err = await rejectionOf(
        (async () => {
          for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') deltas.push(event.delta.text);
        })(),
      );

      expect(err).toBeInstanceOf(AnthropicApiError);
      expect(err).toMatchObject({ type: 'overloaded_error', status: undefined });
      expect(deltas).toEqual(['a']);
    });

    it('records a stream the client aborts as aborted', async () => {
      fake.enqueue({ chunks: Array.from({ length: 50 }, (_, i) => `${i} `), chunkDelayMs: 20 });
      const controller = new AbortController();
      const stream = await anthropic.messages.create({ ...params, stream: true }, { signal: controller.signal });
      let deltas = 0;
      for await (const event of stream) {
        if (event.type === 'content_block_delta' && ++deltas === 2) controller.abort();
      }

      await fake.waitFor((f) => f.anthropicRequests()[0]?.closedAt !== null);
      expect(only(fake.anthropicRequests())).toMatchObject({ aborted: true, finished: false, dropped: false });
      expect(deltas).toBe(2);
    });

    it('fails the SDK stream when the fake drops the connection (dropAfterChunks)', async () => {
      fake.enqueue({ chunks: ['a', 'b', 'c'], dropAfterChunks: 2 });
      const stream = anthropic.messages.stream(params);
      const deltas: string[] = [];
      stream.on('text', (delta) => deltas.push(delta));
      const err = await rejectionOf(stream.finalMessage());

      expect(err).toBeInstanceOf(AnthropicError);
      expect(err).toMatchObject({ message: expect.stringContaining('terminated') });
      expect(deltas).toEqual(['a', 'b']);
      await fake.waitFor((f) => f.anthropicRequests()[0]?.closedAt !== null);
      expect(only(fake.anthropicRequests())).toMatchObject({ dropped: true, aborted: false, finished: false });
    });

    it('keeps a hanging request open until the SDK times out, and records the abort', async () => {
      fake.enqueue({ hang: true });
      const err = await rejectionOf(anthropic.messages.create(params, { timeout: 300 }));

      expect(err).toBeInstanceOf(APIConnectionError);
      await fake.waitFor((f) => f.anthropicRequests()[0]?.aborted);
    });
  });

  describe('Gemini (@google/genai)', () => {
    const contents = [
      { role: 'user', parts: [{ text: 'Hello' }] },
      { role: 'model', parts: [{ text: 'Hi' }] },
      { role: 'user', parts: [{ text: 'How are you?' }] },
    ];
    const params = { model: 'gemini-fake', contents, config: { systemInstruction: 'Be brief.', maxOutputTokens: 64, temperature: 0.2 } };
    const promptTokenCount = promptTokens('Be brief.', 'Hello', 'Hi', 'How are you?');

    it('answers generateContent with the echoed text, STOP and the usage metadata, and records what the SDK sent', async () => {
      const response = await gemini.models.generateContent(params);

      expect(response.text).toBe('Echo: How are you?');
      expect(response.candidates).toEqual([{ content: { role: 'model', parts: [{ text: 'Echo: How are you?' }] }, finishReason: 'STOP', index: 0 }]);
      const candidatesTokenCount = textTokens('Echo: How are you?');
      expect(response.usageMetadata).toEqual({ promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount });
      expect(response.modelVersion).toBe('gemini-fake');

      const request = only(fake.geminiRequests());
      expect(request).toMatchObject({ provider: 'gemini', method: 'POST', path: '/v1beta/models/gemini-fake:generateContent', model: 'gemini-fake', finished: true });
      expect(request.headers['x-goog-api-key']).toBe('gemini-fake-key');
      expect(request.body).toEqual({
        contents,
        systemInstruction: { role: 'user', parts: [{ text: 'Be brief.' }] },
        generationConfig: { maxOutputTokens: 64, temperature: 0.2 },
      });
    });

    it('applies the content, model, usage and finish-reason overrides, or leaves the usage out', async () => {
      fake.enqueue({ content: 'Short.', model: 'gemini-other', usage: { prompt_tokens: 100, completion_tokens: 7 }, finishReason: 'length' }, { noUsage: true });
      const response = await gemini.models.generateContent(params);
      expect(response.text).toBe('Short.');
      expect(response.modelVersion).toBe('gemini-other');
      expect(response.candidates?.[0].finishReason).toBe('MAX_TOKENS');
      expect(response.usageMetadata).toEqual({ promptTokenCount: 100, candidatesTokenCount: 7, totalTokenCount: 107 });

      const bare = await gemini.models.generateContent(params);
      expect(bare.text).toBe('Echo: How are you?');
      expect(bare.usageMetadata).toBeUndefined();
    });

    it('streams the deltas in order; the last chunk has the finish reason and the whole usage', async () => {
      fake.enqueue({ chunks: ['Hel', 'lo', ' world'] });
      const chunks: GenerateContentResponse[] = [];
      for await (const chunk of await gemini.models.generateContentStream(params)) chunks.push(chunk);

      expect(chunks.map((c) => c.text)).toEqual(['Hel', 'lo', ' world']);
      expect(chunks.map((c) => c.candidates?.[0].finishReason)).toEqual([undefined, undefined, 'STOP']);
      // As Gemini does, every chunk carries the usage so far; the last one is the call's.
      expect(chunks.map((c) => c.usageMetadata?.candidatesTokenCount)).toEqual([textTokens('Hel'), textTokens('Hello'), textTokens('Hello world')]);
      const candidatesTokenCount = textTokens('Hello world');
      expect(chunks.at(-1)?.usageMetadata).toEqual({ promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount });
      const request = only(fake.geminiRequests());
      expect(request).toMatchObject({ path: '/v1beta/models/gemini-fake:streamGenerateContent', query: { alt: 'sse' }, finished: true });
    });

    it.each([
      [400, 'INVALID_ARGUMENT'],
      [429, 'RESOURCE_EXHAUSTED'],
      [500, 'INTERNAL'],
      [503, 'UNAVAILABLE'],
    ])('turns status %i into an ApiError with that status and %s in the body, without a retry', async (status, googleStatus) => {
      fake.enqueue({ status, error: { message: `nope ${status}` } }, { status, error: { message: `nope ${status}` } }, { content: 'a retry would get this' });
      const err = await rejectionOf(gemini.models.generateContent(params));
      const streamErr = await rejectionOf(gemini.models.generateContentStream(params));

      for (const e of [err, streamErr]) {
        expect(e).toBeInstanceOf(GeminiApiError);
        expect((e as GeminiApiError).status).toBe(status);
        expect(JSON.parse((e as GeminiApiError).message)).toEqual({ error: { code: status, message: `nope ${status}`, status: googleStatus } });
      }
      expect(fake.geminiRequests()).toHaveLength(2);
    });

    it('answers a request without contents (which the SDK itself refuses to send) with a 400 INVALID_ARGUMENT', async () => {
      const res = await fetch(`${fake.geminiBaseUrl}/v1beta/models/gemini-fake:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [] }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { code: 400, message: expect.stringContaining('contents'), status: 'INVALID_ARGUMENT' } });
    });

    it('surfaces a mid-stream error chunk as an ApiError, after the deltas before it', async () => {
      fake.enqueue({ chunks: ['a', 'b', 'c'], streamError: { afterChunks: 1, status: 503 } });
      const texts: (string | undefined)[] = [];
      const stream = await gemini.models.generateContentStream(params);
      const err = await rejectionOf(
        (async () => {
          for await (const chunk of stream) texts.push(chunk.text);
        })(),
      );

      expect(err).toBeInstanceOf(GeminiApiError);
      expect(err).toMatchObject({ status: 503, message: expect.stringContaining('UNAVAILABLE') });
      expect(texts).toEqual(['a']);
    });

    it('records a stream the client aborts as aborted', async () => {
      fake.enqueue({ chunks: Array.from({ length: 50 }, (_, i) => `${i} `), chunkDelayMs: 20 });
      const controller = new AbortController();
      const stream = await gemini.models.generateContentStream({ ...params, config: { ...params.config, abortSignal: controller.signal } });
      let received = 0;
      await rejectionOf(
        (async () => {
          for await (const _chunk of stream) if (++received === 2) controller.abort();
        })(),
      );

      await fake.waitFor((f) => f.geminiRequests()[0]?.closedAt !== null);
      expect(only(fake.geminiRequests())).toMatchObject({ aborted: true, finished: false, dropped: false });
      expect(received).toBe(2);
    });

    it('fails the SDK stream when the fake drops the connection (dropAfterChunks)', async () => {
      fake.enqueue({ chunks: ['a', 'b', 'c'], dropAfterChunks: 2 });
      const texts: (string | undefined)[] = [];
      const stream = await gemini.models.generateContentStream(params);
      const err = await rejectionOf(
        (async () => {
          for await (const chunk of stream) texts.push(chunk.text);
        })(),
      );

      // undici's error, from Node's realm (not an instance of this realm's TypeError)
      expect(err).toMatchObject({ name: 'TypeError', message: 'terminated' });
      expect(texts).toEqual(['a', 'b']);
      await fake.waitFor((f) => f.geminiRequests()[0]?.closedAt !== null);
      expect(only(fake.geminiRequests())).toMatchObject({ dropped: true, aborted: false, finished: false });
    });

    it('waits delayMs before answering', async () => {
      fake.enqueue({ delayMs: 300 });
      const started = Date.now();
      const response = await gemini.models.generateContent(params);

      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(response.text).toBe('Echo: How are you?');
    });
  });
});

import fc from 'fast-check';
import { APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import { readCompletionBatches } from './openai-sse';

// A response whose body hands out `parts` one read at a time, and records whether it was cancelled.
function sseResponse(parts: (string | Uint8Array)[]) {
  const encoder = new TextEncoder();
  const queue = [...parts];
  const body = {
    isCancelled: false,
    stream: new ReadableStream<Uint8Array>({
      pull(controller) {
        const part = queue.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(typeof part === 'string' ? encoder.encode(part) : part);
      },
      cancel() {
        body.isCancelled = true;
      },
    }),
  };
  return { response: new Response(body.stream, { headers: { 'content-type': 'text/event-stream', 'x-request-id': 'req_1' } }), body };
}

// The batches' chunks one after the other, as the SDK's Stream hands them out.
async function* readCompletionChunks(response: Response, signal: AbortSignal): AsyncGenerator<ChatCompletionChunk> {
  for await (const batch of readCompletionBatches(response, signal)) yield* batch;
}

async function collect(chunks: AsyncIterable<ChatCompletionChunk>) {
  const contents: (string | null | undefined)[] = [];
  try {
    for await (const chunk of chunks) contents.push(chunk.choices[0]?.delta?.content);
    return { contents };
  } catch (error) {
    return { contents, error: describeError(error) };
  }
}

const describeError = (error: unknown) =>
  error instanceof APIError
    ? { type: 'APIError', message: error.message, body: error.error as unknown, status: error.status as number | undefined, requestID: error.requestID }
    : { type: (error as Error).name, message: (error as Error).message };

const delta = (content: string) => `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content } }] })}\n\n`;
const read = (parts: (string | Uint8Array)[], signal = new AbortController().signal) => collect(readCompletionChunks(sseResponse(parts).response, signal));

describe(readCompletionBatches.name, () => {
  it('yields the chunks in order up to [DONE], whatever the reads cut, multi-byte characters included', async () => {
    const wire = new TextEncoder().encode(`: keep-alive\n\n${delta('Hé')}${delta(' 🙂 monde')}data: [DONE]\n\n${delta('after')}`);
    const cuts = [0, 3, 17, 40, 41, 42, 43, 44, 90, wire.length];
    const parts = cuts.slice(1).map((end, i) => wire.subarray(cuts[i], end));
    await expect(read(parts)).resolves.toEqual({ contents: ['Hé', ' 🙂 monde'] });
  });

  it('cancels the body when it stops at [DONE] before the body ends', async () => {
    const { response, body } = sseResponse([`${delta('a')}data: [DONE]\n\n`, ': trailing\n\n']);
    await expect(collect(readCompletionChunks(response, new AbortController().signal))).resolves.toEqual({ contents: ['a'] });
    expect(body.isCancelled).toBe(true);
  });

  it('still yields a last event the upstream did not end with a blank line', async () => {
    await expect(read([delta('a'), delta('b').trimEnd()])).resolves.toEqual({ contents: ['a', 'b'] });
  });

  it('throws an APIError for an error event or payload, after the chunks before it', async () => {
    await expect(read([`${delta('a')}event: error\ndata: {"error":{"message":"overloaded"}}\n\n`])).resolves.toEqual({
      contents: ['a'],
      error: { type: 'APIError', message: 'overloaded', body: { message: 'overloaded' }, status: undefined, requestID: 'req_1' },
    });
    await expect(read([delta('a'), 'data: {"error":{"message":"server_error"}}\n\n'])).resolves.toEqual({
      contents: ['a'],
      error: { type: 'APIError', message: 'server_error', body: { message: 'server_error' }, status: undefined, requestID: 'req_1' },
    });
  });

  it('throws a SyntaxError for malformed JSON, and cancels the body', async () => {
    const { response, body } = sseResponse(['data: {"choices":\n\n', delta('never read')]);
    await expect(collect(readCompletionChunks(response, new AbortController().signal))).resolves.toEqual({
      contents: [],
      error: { type: 'SyntaxError', message: 'Error reading response: malformed server-sent event JSON.' },
    });
    expect(body.isCancelled).toBe(true);
  });

  it('hands out the chunks of one read as one batch', async () => {
    const batches: unknown[] = [];
    for await (const batch of readCompletionBatches(sseResponse([`${delta('a')}${delta('b')}`, ': ping\n\n', delta('c')]).response, new AbortController().signal))
      batches.push(batch.map((chunk) => chunk.choices[0]?.delta?.content));
    expect(batches).toEqual([['a', 'b'], ['c']]);
  });

  it('yields nothing more once the signal is aborted', async () => {
    const abort = new AbortController();
    const batches: unknown[] = [];
    for await (const batch of readCompletionBatches(sseResponse([`${delta('a')}${delta('b')}`, delta('c')]).response, abort.signal)) {
      batches.push(batch.map((chunk) => chunk.choices[0]?.delta?.content));
      abort.abort();
    }
    expect(batches).toEqual([['a', 'b']]);
  });

  it('cancels the body when the caller leaves early', async () => {
    const { response, body } = sseResponse([delta('a'), delta('b')]);
    for await (const chunk of readCompletionChunks(response, new AbortController().signal)) {
      expect(chunk.choices[0]?.delta?.content).toBe('a');
      break;
    }
    expect(body.isCancelled).toBe(true);
  });

  it("gives what the SDK's own Stream gives, for any events and any cuts between reads", async () => {
    const event = fc.oneof(
      { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map((content) => delta(content).trimEnd()) },
      fc.constant(': keep-alive'),
      fc.constant('data: {"error":{"message":"server_error","type":"server_error"}}'),
      fc.constant('event: error\ndata: {"error":{"message":"overloaded"}}'),
      fc.constant('event: error\ndata: {"message":"bare"}'),
      fc.constant('data: [DONE]'),
    );
    const stream = fc.record({
      events: fc.array(event, { maxLength: 8 }),
      newline: fc.constantFrom('\n', '\r\n'),
      isLastTerminated: fc.boolean(),
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(stream, async ({ events, newline, isLastTerminated, cuts }) => {
        const text = events.map((e) => `${e}\n`).join('\n') + (isLastTerminated ? '\n' : '');
        const wire = new TextEncoder().encode(text.replaceAll('\n', newline));
        const ends = [...new Set(cuts.map((cut) => cut % (wire.length + 1)))].sort((a, b) => a - b);
        const parts = [...ends, wire.length].map((end, i, all) => wire.subarray(i === 0 ? 0 : all[i - 1], end));
        const sdk = await collect(Stream.fromSSEResponse<ChatCompletionChunk>(sseResponse(parts).response, new AbortController()));
        expect(await read(parts)).toEqual(sdk);
      }),
      { numRuns: 300 },
    );
  });
});

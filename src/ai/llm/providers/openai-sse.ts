import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { APIError, OpenAIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';

// Reads the SSE body of a streamed chat completion into its chunks: one `for await` over the body
// feeding a synchronous parser. The SDK's Stream does the same through four nested async
// generators, a line decoder and an abort race per read — CPU paid on every chunk of every stream.
// The chunks come in batches, one per read of the body: those that arrived together, which the
// caller may pass on as one (a busy process reads several at once, and each event it sends costs).
// The caller gets what the SDK's Stream gives: the chunks in order up to `[DONE]`; an `error`
// event or a payload with `error` throws an APIError (after the batch of chunks before it), malformed
// JSON a SyntaxError; nothing more once `signal` is aborted. Leaving early (return, throw) cancels the body.
export async function* readCompletionBatches(response: Response, signal: AbortSignal): AsyncGenerator<ChatCompletionChunk[]> {
  if (!response.body) throw new OpenAIError('Attempted to iterate over a response with no body');
  const decoder = new SseDecoder();
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
    const events = decoder.decode(bytes);
    if (events.length > 0) {
      if (signal.aborted) return;
      yield* toBatches(events, response.headers);
    }
    if (decoder.isDone) return;
  }
  const events = decoder.end();
  if (events.length > 0 && !signal.aborted) yield* toBatches(events, response.headers);
}

// The events' chunks as one batch; an error among them ends the batch before it and then throws.
function* toBatches(events: EventSourceMessage[], headers: Headers): Generator<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for (const event of events) {
    try {
      chunks.push(toChunk(event, headers));
    } catch (error) {
      if (chunks.length > 0) yield chunks;
      throw error;
    }
  }
  yield chunks;
}

class SseDecoder {
  isDone = false;
  private events: EventSourceMessage[] = [];
  private readonly text = new TextDecoder();
  private readonly parser = createParser({
    onEvent: (event) => {
      if (event.data === '[DONE]') this.isDone = true;
      else if (!this.isDone) this.events.push(event);
    },
  });

  // The events these bytes complete (a multi-byte character may straddle two reads).
  decode(bytes: Uint8Array): EventSourceMessage[] {
    this.parser.feed(this.text.decode(bytes, { stream: true }));
    return this.take();
  }

  // At the end of the body, an event left without its closing blank line still counts, as in the SDK.
  end(): EventSourceMessage[] {
    this.parser.feed(`${this.text.decode()}\n\n`);
    return this.take();
  }

  private take(): EventSourceMessage[] {
    const events = this.events;
    this.events = [];
    return events;
  }
}

// A chunk, or an error the upstream sent in place of one.
type Payload = Partial<ChatCompletionChunk> & { error?: unknown };

function toChunk({ event, data }: EventSourceMessage, headers: Headers): ChatCompletionChunk {
  let payload: Payload | null;
  try {
    payload = JSON.parse(data) as Payload | null;
  } catch {
    throw new SyntaxError('Error reading response: malformed server-sent event JSON.');
  }
  if (event === 'error') throw new APIError(undefined, (payload?.error ?? payload) as object | undefined, undefined, headers);
  if (payload?.error) throw new APIError(undefined, payload.error, undefined, headers);
  return payload as ChatCompletionChunk;
}

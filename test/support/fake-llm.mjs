// A fake LLM upstream (OpenAI, Anthropic and Gemini APIs) for e2e tests and offline development.
//
// Only node: built-ins, no dependencies. It speaks just enough of each REST API for the official
// SDKs (`openai`, `@anthropic-ai/sdk`, `@google/genai`) and plain fetch to work against it:
//   OpenAI     (base URL `fake.baseUrl`, `http://127.0.0.1:<port>/v1`)
//     POST /v1/chat/completions   JSON or SSE stream (`stream: true`), usage, finish_reason
//     POST /v1/embeddings         deterministic hashed bag-of-words vectors (texts sharing words
//                                 are near), `dimensions` honoured, `encoding_format` float or base64
//     GET  /v1/models             a short static list
//     POST /v1/moderations        flags a text that contains `[flag:<category>]` for that category
//                                 (e.g. `[flag:violence]`); steered by `setModeration()`, not the queue
//   Anthropic  (`fake.anthropicBaseUrl`, the SDK's `baseURL`: `http://127.0.0.1:<port>`)
//     POST /v1/messages           JSON, or Anthropic's named SSE events (`stream: true`):
//                                 message_start, content_block_start, ping, content_block_delta
//                                 (text_delta) per delta, content_block_stop, message_delta,
//                                 message_stop; errors `{ type: 'error', error: { type, message } }`
//   Gemini     (`fake.geminiBaseUrl`, the SDK's `httpOptions.baseUrl`: `http://127.0.0.1:<port>`)
//     POST /v1beta/models/{model}:generateContent                JSON GenerateContentResponse
//     POST /v1beta/models/{model}:streamGenerateContent?alt=sse  `data:` events separated by CRLF
//                                 CRLF (as Google sends them), one GenerateContentResponse per
//                                 delta, each with the cumulative usageMetadata; the last one has
//                                 the finishReason. Errors `{ error: { code, message, status } }`.
//     (`/v1/models/...` is accepted too, for a client set to apiVersion 'v1'.)
// Anything else answers 500 with a loud message so that tests notice calls they did not expect.
// The fake checks no API key; the headers are recorded for tests to assert on.
//
// Tests steer the answers with "behaviours" (see {@link Behaviour}): ONE FIFO queue of one-shot
// behaviours shared by every provider and endpoint that takes one (OpenAI chat and embeddings,
// Anthropic messages, Gemini generateContent), consumed in request arrival order whatever the
// provider, plus a default behaviour used when the queue is empty. The fields mean the same for
// every provider; the answer takes the provider's shape. Every request is recorded (see
// {@link RecordedRequest}) with its provider, including whether the client went away before the
// response was complete.
//
// Usage:
//   const fake = await startFakeLlm();
//   process.env.OPENAI_BASE_URL = fake.baseUrl;
//   fake.enqueue({ status: 429, headers: { 'retry-after': '0' } }, { content: 'Hello!' });
//   ...
//   await fake.waitFor((f) => f.chatRequests().length === 2);
//   await fake.close();
//   // new Anthropic({ apiKey: 'x', baseURL: fake.anthropicBaseUrl, maxRetries: 0 })
//   // new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: fake.geminiBaseUrl } })
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { MODERATION_CATEGORIES } from './moderation-categories.mjs';

/**
 * @typedef {object} Behaviour  How to answer one request. Every field is optional.
 * @property {number} [status]  Answer with this HTTP status and an error body in the provider's
 *   shape (any status >= 400; a 2xx/3xx status here is ignored unless `error` is also given).
 *   Anthropic's `error.type` and Gemini's `error.status` follow the status (400
 *   invalid_request_error / INVALID_ARGUMENT, 401, 403, 404, 429 rate_limit_error /
 *   RESOURCE_EXHAUSTED, 500 api_error / INTERNAL, 503 UNAVAILABLE, 529 overloaded_error...).
 * @property {{ message?: string, type?: string, code?: string|null, param?: string|null }} [error]
 *   Error details; alone (without `status`) it means status 500. Default message:
 *   `Fake upstream error <status>`. `type` overrides OpenAI's `type`, Anthropic's `error.type`
 *   and Gemini's `error.status` (e.g. 'RESOURCE_EXHAUSTED'); `code` and `param` are OpenAI's.
 * @property {Record<string, string>} [headers]  Extra response headers (e.g. `retry-after`).
 * @property {number} [delayMs]  Wait this long before sending the response headers.
 * @property {boolean} [hang]  Never answer; the socket stays open until the client gives up.
 * @property {string} [content]  Full assistant text. Default: `Echo: <last message text>`.
 * @property {string[]} [chunks]  Explicit stream deltas. Default: `content` cut every `chunkSize`.
 * @property {number} [chunkSize]  Characters per default stream delta (default 4).
 * @property {number} [chunkDelayMs]  Delay between stream deltas (default 0).
 * @property {number} [dropAfterChunks]  Streaming only: destroy the socket after this many
 *   content deltas, as an upstream dropping mid-stream would (0: right after the stream's opening
 *   events: OpenAI's role chunk, Anthropic's message_start/content_block_start/ping, nothing for
 *   Gemini; equal to the number of deltas: after the last delta, before the end of the stream;
 *   more than there are deltas: no drop).
 * @property {{ afterChunks?: number, status?: number, type?: string, message?: string }} [streamError]
 *   Streaming only: after `afterChunks` (default 0) content deltas, send the provider's in-stream
 *   error and end the response: OpenAI `data: {"error":{...}}`, Anthropic `event: error` with
 *   `{ type: 'error', error: { type, message } }`, Gemini `data: {"error":{ code, message, status }}`.
 *   `status` (default 500) picks the type as for `status` above; `type` overrides it.
 * @property {boolean} [noUsage]  Send no usage at all (OpenAI `usage`, Anthropic `usage` in the
 *   message, message_start and message_delta, Gemini `usageMetadata`). Note that the Anthropic
 *   SDK's `messages.stream()` helper needs message_delta's usage and throws without it.
 * @property {{ prompt_tokens?: number, completion_tokens?: number, total_tokens?: number }} [usage]
 *   Override (part of) the computed usage, in OpenAI's names for every provider: Anthropic
 *   input_tokens/output_tokens, Gemini promptTokenCount/candidatesTokenCount/totalTokenCount.
 * @property {string} [model]  Model name to report. Default: the request's model.
 * @property {string} [finishReason]  Default 'stop'. OpenAI's names are mapped (stop, length,
 *   tool_calls, content_filter -> Anthropic end_turn, max_tokens, tool_use, refusal; Gemini STOP,
 *   MAX_TOKENS, STOP, SAFETY); any other value is passed through as it is.
 * @property {number} [dimensions]  Embedding length. Default: the request's `dimensions`, else 8.
 */

/**
 * @typedef {'openai' | 'anthropic' | 'gemini'} Provider
 */

/**
 * @typedef {object} RecordedRequest
 * @property {number} id  1, 2, 3... in arrival order.
 * @property {Provider | null} provider  Whose API the request was for (null: an unexpected request).
 * @property {string} method
 * @property {string} path  URL path without the query string.
 * @property {Record<string, string>} query  The query string's parameters (e.g. Gemini's `alt`).
 * @property {string | null} model  The requested model: the body's `model` (OpenAI, Anthropic)
 *   or the one in the URL (Gemini, without its `models/` prefix).
 * @property {import('node:http').IncomingHttpHeaders} headers  Lower-cased request headers.
 * @property {any} body  Parsed JSON body, or null (no body, or invalid JSON).
 * @property {number} receivedAt  Date.now() when the request arrived.
 * @property {number|null} closedAt  Date.now() when the response closed (completed or not).
 * @property {boolean} finished  The response was completely written.
 * @property {boolean} aborted  The client went away before the response was complete.
 * @property {boolean} dropped  The fake itself cut the connection (`dropAfterChunks`).
 */

/**
 * @typedef {object} FakeLlm
 * @property {string} baseUrl  OpenAI: e.g. `http://127.0.0.1:41234/v1` (for OPENAI_BASE_URL).
 * @property {string} anthropicBaseUrl  e.g. `http://127.0.0.1:41234`, the Anthropic SDK's `baseURL`
 *   (the SDK appends `/v1/messages`).
 * @property {string} geminiBaseUrl  e.g. `http://127.0.0.1:41234`, `@google/genai`'s
 *   `httpOptions.baseUrl` (the SDK appends `/v1beta/models/<model>:generateContent`).
 * @property {number} port
 * @property {RecordedRequest[]} requests  Every request received, in arrival order.
 * @property {() => RecordedRequest[]} chatRequests  Requests to OpenAI's /v1/chat/completions.
 * @property {() => RecordedRequest[]} embeddingRequests  Requests to OpenAI's /v1/embeddings.
 * @property {() => RecordedRequest[]} moderationRequests  Requests to OpenAI's /v1/moderations.
 * @property {(behaviour?: Behaviour) => FakeLlm} setModeration  How every moderation request is
 *   answered until reset (`status`, `error`, `delayMs`, `hang`, `headers`); the queue is not used.
 * @property {() => RecordedRequest[]} anthropicRequests  Requests for the Anthropic API.
 * @property {() => RecordedRequest[]} geminiRequests  Requests for the Gemini API.
 * @property {() => number} abortCount  Number of requests the client aborted.
 * @property {() => number} openConnections  Number of currently open TCP sockets.
 * @property {(...behaviours: Behaviour[]) => FakeLlm} enqueue  Queue one-shot behaviours (one
 *   queue for all providers).
 * @property {(behaviour?: Behaviour) => FakeLlm} setDefault  Behaviour when the queue is empty.
 * @property {() => FakeLlm} reset  Clear queue, default behaviour and recorded requests.
 * @property {(predicate: (fake: FakeLlm) => unknown, timeoutMs?: number) => Promise<void>} waitFor
 * @property {() => Promise<void>} close  Stop listening and destroy open sockets.
 */

const CHAT_PATH = '/v1/chat/completions';
const EMBEDDINGS_PATH = '/v1/embeddings';
const MODELS_PATH = '/v1/models';
const MODERATIONS_PATH = '/v1/moderations';
const FLAG_MARKER = /\[flag:([a-z/-]+)\]/g;
const ANTHROPIC_MESSAGES_PATH = '/v1/messages';
/** `/v1beta/models/gemini-2.5-flash:streamGenerateContent` -> model, method. */
const GEMINI_PATH = /^\/v1(?:beta)?\/(?:models|tunedModels)\/([^/:]+):(generateContent|streamGenerateContent)$/;

/** Built-in defaults; `setDefault()` and queued behaviours are merged over these. */
const BUILT_IN_BEHAVIOUR = Object.freeze({ chunkSize: 4, chunkDelayMs: 0 });
const DEFAULT_DIMENSIONS = 8;
const FAKE_MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'];

/**
 * Start a fake LLM server.
 * @param {{ port?: number, host?: string }} [options]  `port` 0 (default) picks a free port.
 * @returns {Promise<FakeLlm>}
 */
export async function startFakeLlm({ port = 0, host = '127.0.0.1' } = {}) {
  /** @type {RecordedRequest[]} */
  const requests = [];
  /** @type {Behaviour[]} */
  const queue = [];
  /** @type {Behaviour} */
  let defaultBehaviour = {};
  /** @type {Behaviour} */
  let moderationBehaviour = {};
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  let requestSeq = 0;
  let responseSeq = 0;
  /** @type {Promise<void> | undefined} */
  let closing;

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      // Last resort: a bug in the fake must be loud, never a silent hang.
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 500, { error: errorBody(500, { message: `fake-llm internal error: ${err?.message ?? err}` }) });
      } else {
        res.destroy();
      }
    });
  });

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  /**
   * Route one request. The behaviour is taken from the queue as soon as the request arrives,
   * so that concurrent requests consume the queue in arrival order.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  async function handle(req, res) {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const path = rawUrl.split('?')[0];
    const search = rawUrl.slice(path.length + 1);
    const geminiMatch = method === 'POST' ? GEMINI_PATH.exec(path) : null;
    /** @type {Route} */
    const route =
      method === 'POST' && path === CHAT_PATH
        ? 'chat'
        : method === 'POST' && path === EMBEDDINGS_PATH
          ? 'embeddings'
          : method === 'GET' && path === MODELS_PATH
            ? 'models'
            : method === 'POST' && path === MODERATIONS_PATH
              ? 'moderations'
              : method === 'POST' && path === ANTHROPIC_MESSAGES_PATH
                ? 'anthropic'
                : geminiMatch
                  ? 'gemini'
                  : 'unexpected';
    /** @type {RecordedRequest} */
    const record = {
      id: ++requestSeq,
      provider: ROUTE_PROVIDER[route],
      method,
      path,
      query: Object.fromEntries(new URLSearchParams(search)),
      model: geminiMatch ? safeDecode(geminiMatch[1]) : null,
      headers: req.headers,
      body: null,
      receivedAt: Date.now(),
      closedAt: null,
      finished: false,
      aborted: false,
      dropped: false,
    };
    requests.push(record);
    res.setHeader('x-request-id', `req_fake_${record.id}`); // what the OpenAI SDK exposes as request_id
    if (route === 'anthropic') res.setHeader('request-id', `req_fake_${record.id}`); // the Anthropic SDK's requestID

    // Lets sleeps stop early once the client has gone (or the server is closing).
    const gone = new AbortController();
    res.on('finish', () => {
      record.finished = true;
    });
    res.on('close', () => {
      record.closedAt = Date.now();
      record.finished = res.writableFinished;
      record.aborted = !res.writableFinished && !record.dropped;
      gone.abort();
    });

    const takesBehaviour = route !== 'models' && route !== 'moderations' && route !== 'unexpected';
    const behaviour = takesBehaviour
      ? { ...BUILT_IN_BEHAVIOUR, ...defaultBehaviour, ...(queue.shift() ?? {}) }
      : { ...BUILT_IN_BEHAVIOUR, ...(route === 'moderations' ? moderationBehaviour : {}) };

    let raw;
    try {
      raw = await readBody(req);
    } catch {
      return; // client went away while sending the body; 'close' records the abort
    }
    let parseError = null;
    if (raw.length > 0) {
      try {
        record.body = JSON.parse(raw);
      } catch (err) {
        parseError = err;
      }
    }
    if (route !== 'gemini' && typeof record.body?.model === 'string') record.model = record.body.model;

    if (route === 'unexpected') {
      return sendJson(res, 500, {
        error: { message: `fake-llm: unexpected request ${method} ${path}`, type: 'server_error', code: null, param: null },
      });
    }
    if (route === 'models') {
      return sendJson(res, 200, modelsList());
    }
    /** @type {Ctx} */
    const ctx = { req, res, record, behaviour, route, signal: gone.signal, responseId: 0 };
    if (parseError) {
      return sendError(ctx, 400, { message: `fake-llm: invalid JSON body: ${parseError.message}` }, {});
    }
    ctx.responseId = ++responseSeq;

    if (behaviour.hang) return; // never answer; 'close' fires when the client gives up
    if (behaviour.delayMs > 0 && !(await pause(behaviour.delayMs, gone.signal))) return;
    if (isErrorBehaviour(behaviour)) {
      const status = behaviour.status >= 400 ? behaviour.status : 500;
      return sendError(ctx, status, behaviour.error, behaviour.headers);
    }
    switch (route) {
      case 'chat':
        return chatCompletion(ctx);
      case 'embeddings':
        return embeddings(ctx);
      case 'moderations':
        return moderations(ctx);
      case 'anthropic':
        return anthropicMessages(ctx);
      case 'gemini':
        return geminiGenerateContent(ctx, geminiMatch[2] === 'streamGenerateContent');
    }
  }

  /** @param {Provider} provider */
  const byProvider = (provider) => requests.filter((r) => r.provider === provider);

  /** @type {FakeLlm} */
  const fake = {
    baseUrl: '',
    anthropicBaseUrl: '',
    geminiBaseUrl: '',
    port: 0,
    requests,
    chatRequests: () => requests.filter((r) => r.path === CHAT_PATH),
    embeddingRequests: () => requests.filter((r) => r.path === EMBEDDINGS_PATH),
    moderationRequests: () => requests.filter((r) => r.path === MODERATIONS_PATH),
    anthropicRequests: () => byProvider('anthropic'),
    geminiRequests: () => byProvider('gemini'),
    abortCount: () => requests.filter((r) => r.aborted).length,
    openConnections: () => sockets.size,
    enqueue(...behaviours) {
      queue.push(...behaviours.map((b) => ({ ...b })));
      return fake;
    },
    setDefault(behaviour = {}) {
      defaultBehaviour = { ...behaviour };
      return fake;
    },
    setModeration(behaviour = {}) {
      moderationBehaviour = { ...behaviour };
      return fake;
    },
    reset() {
      queue.length = 0;
      defaultBehaviour = {};
      moderationBehaviour = {};
      requests.length = 0; // keep the same array: tests may hold a reference to fake.requests
      return fake;
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      let lastError;
      for (;;) {
        try {
          if (await predicate(fake)) return;
          lastError = null;
        } catch (err) {
          lastError = err;
        }
        if (Date.now() >= deadline) break;
        await sleep(10);
      }
      const source = String(predicate).replace(/\s+/g, ' ').slice(0, 200);
      throw new Error(
        `fake-llm: waitFor timed out after ${timeoutMs}ms waiting for ${source} ` +
          `(requests: ${requests.length}, aborted: ${fake.abortCount()}, open connections: ${sockets.size}, ` +
          `queued behaviours: ${queue.length})` +
          (lastError ? `; the predicate last threw: ${lastError?.message ?? lastError}` : ''),
      );
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise((resolve) => server.close(() => resolve()));
        const socketsClosed = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy(); // sockets the http server no longer tracks too
        await Promise.all([stopped, ...socketsClosed]); // so openConnections() is 0 afterwards
      })();
      return closing;
    },
  };

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${urlHost}:${address.port}`;
  fake.port = address.port;
  fake.baseUrl = `${origin}/v1`;
  fake.anthropicBaseUrl = origin;
  fake.geminiBaseUrl = origin;
  return fake;
}

/** @typedef {'chat' | 'embeddings' | 'models' | 'moderations' | 'anthropic' | 'gemini' | 'unexpected'} Route */

/** @type {Record<Route, Provider | null>} */
const ROUTE_PROVIDER = {
  chat: 'openai',
  embeddings: 'openai',
  models: 'openai',
  moderations: 'openai',
  anthropic: 'anthropic',
  gemini: 'gemini',
  unexpected: null,
};

// ---------------------------------------------------------------------------------------------
// OpenAI
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} Ctx
 * @property {import('node:http').IncomingMessage} req
 * @property {import('node:http').ServerResponse} res
 * @property {RecordedRequest} record
 * @property {Behaviour & typeof BUILT_IN_BEHAVIOUR} behaviour
 * @property {Route} route
 * @property {AbortSignal} signal  Aborted once the response is closed.
 * @property {number} responseId
 */

/** POST /v1/chat/completions, JSON or SSE. @param {Ctx} ctx */
async function chatCompletion(ctx) {
  const { res, record, behaviour: b } = ctx;
  const body = record.body;
  if (!body || !Array.isArray(body.messages)) {
    return sendError(ctx, 400, { message: "fake-llm: 'messages' must be an array", param: 'messages' }, b.headers);
  }

  const id = `chatcmpl-${ctx.responseId}`;
  const created = Math.floor(Date.now() / 1000);
  const model = b.model ?? body.model ?? 'fake-model';
  const promptTokens = body.messages.reduce((sum, m) => sum + tokens(messageText(m?.content)) + 3, 0);
  const defaultContent = `Echo: ${messageText(body.messages.at(-1)?.content)}`;
  const finishReason = b.finishReason ?? 'stop';

  if (!body.stream) {
    const content = b.content ?? (b.chunks ? b.chunks.join('') : defaultContent);
    const completion = {
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
    };
    if (!b.noUsage) completion.usage = usageFor(b, promptTokens, content);
    return sendJson(res, 200, completion, b.headers);
  }

  const content = b.content ?? defaultContent;
  const deltas = b.chunks ?? splitEvery(content, Math.max(1, b.chunkSize));
  const includeUsage = Boolean(body.stream_options?.include_usage) && !b.noUsage;
  const chunk = (choices, extra = {}) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: 'fp_fake',
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  const choice = (delta, reason = null) => ({ index: 0, delta, logprobs: null, finish_reason: reason });

  startSse(res, b);
  if (!(await sendEvent(res, chunk([choice({ role: 'assistant', content: '' })])))) return;
  const sent = await streamDeltas(ctx, deltas, (text) => sendEvent(res, chunk([choice({ content: text })])));
  if (!sent) return;

  if (!(await sendEvent(res, chunk([choice({}, finishReason)])))) return;
  if (includeUsage) {
    const usage = usageFor(b, promptTokens, deltas.join(''));
    if (!(await sendEvent(res, chunk([], { usage })))) return;
  }
  if (!(await sendEvent(res, '[DONE]'))) return;
  res.end();
}

/** POST /v1/embeddings. @param {Ctx} ctx */
function embeddings(ctx) {
  const { res, record, behaviour: b } = ctx;
  const body = record.body;
  const input = body?.input;
  const inputs = Array.isArray(input) ? input : [input];
  if (input === undefined || input === null || inputs.length === 0) {
    return sendError(ctx, 400, { message: "fake-llm: 'input' is required", param: 'input' }, b.headers);
  }
  const dimensions = b.dimensions ?? body.dimensions ?? DEFAULT_DIMENSIONS;
  const base64 = body.encoding_format === 'base64';
  const texts = inputs.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));

  const data = texts.map((text, index) => {
    const vector = embedText(text, dimensions);
    return {
      object: 'embedding',
      index,
      embedding: base64 ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector),
    };
  });
  const promptTokens = texts.reduce((sum, text) => sum + tokens(text), 0);
  const result = { object: 'list', data, model: b.model ?? body.model ?? 'fake-embedding-model' };
  if (!b.noUsage) result.usage = { prompt_tokens: promptTokens, total_tokens: promptTokens, ...(b.usage ?? {}) };
  return sendJson(res, 200, result, b.headers);
}

/** POST /v1/moderations: one result per input, flagged for each `[flag:<category>]` it contains. @param {Ctx} ctx */
function moderations(ctx) {
  const { res, record, behaviour: b } = ctx;
  const input = record.body?.input;
  const inputs = Array.isArray(input) ? input : [input];
  if (input === undefined || input === null || inputs.length === 0) {
    return sendError(ctx, 400, { message: "fake-llm: 'input' is required", param: 'input' }, b.headers);
  }
  const results = inputs.map((item) => {
    const text = typeof item === 'string' ? item : JSON.stringify(item);
    const flaggedFor = new Set([...text.matchAll(FLAG_MARKER)].map((match) => match[1]));
    const categories = Object.fromEntries(MODERATION_CATEGORIES.map((name) => [name, flaggedFor.has(name)]));
    const scores = Object.fromEntries(MODERATION_CATEGORIES.map((name) => [name, flaggedFor.has(name) ? 0.98 : 0.0001]));
    const inputTypes = Object.fromEntries(MODERATION_CATEGORIES.map((name) => [name, ['text']]));
    return { flagged: flaggedFor.size > 0, categories, category_scores: scores, category_applied_input_types: inputTypes };
  });
  return sendJson(res, 200, { id: `modr-${ctx.responseId}`, model: record.body?.model ?? 'omni-moderation-latest', results }, b.headers);
}

/** GET /v1/models. */
function modelsList() {
  const created = 1_700_000_000;
  return { object: 'list', data: FAKE_MODELS.map((id) => ({ id, object: 'model', created, owned_by: 'fake-openai' })) };
}

// ---------------------------------------------------------------------------------------------
// Anthropic
// ---------------------------------------------------------------------------------------------

/** POST /v1/messages, JSON or Anthropic's SSE events. @param {Ctx} ctx */
async function anthropicMessages(ctx) {
  const { res, record, behaviour: b } = ctx;
  const body = record.body;
  const invalid = !body
    ? 'a JSON body is required'
    : typeof body.model !== 'string'
      ? 'model: Field required'
      : typeof body.max_tokens !== 'number'
        ? 'max_tokens: Field required'
        : !Array.isArray(body.messages)
          ? 'messages: Field required'
          : null;
  if (invalid) return sendError(ctx, 400, { message: `fake-llm: ${invalid}` }, b.headers);

  const id = `msg_fake_${ctx.responseId}`;
  const model = b.model ?? body.model;
  const systemText = messageText(body.system);
  const inputTokens = (systemText ? tokens(systemText) + 3 : 0) + body.messages.reduce((sum, m) => sum + tokens(messageText(m?.content)) + 3, 0);
  const defaultContent = `Echo: ${messageText(body.messages.at(-1)?.content)}`;
  const stopReason = mapFinishReason(b.finishReason, ANTHROPIC_STOP_REASONS);

  if (!body.stream) {
    const content = b.content ?? (b.chunks ? b.chunks.join('') : defaultContent);
    const message = {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text: content }],
      stop_reason: stopReason,
      stop_sequence: null,
    };
    if (!b.noUsage) message.usage = anthropicUsage(b, inputTokens, content);
    return sendJson(res, 200, message, b.headers);
  }

  const content = b.content ?? defaultContent;
  const deltas = b.chunks ?? splitEvery(content, Math.max(1, b.chunkSize));
  const event = (type, data) => sendEvent(res, { type, ...data }, type);

  startSse(res, b);
  const start = { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null };
  // Like the real API, message_start already counts the input and a token or so of output.
  if (!b.noUsage) start.usage = { input_tokens: anthropicUsage(b, inputTokens, '').input_tokens, output_tokens: 1 };
  if (!(await event('message_start', { message: start }))) return;
  if (!(await event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }))) return;
  if (!(await event('ping', {}))) return;
  const sent = await streamDeltas(ctx, deltas, (text) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }));
  if (!sent) return;

  if (!(await event('content_block_stop', { index: 0 }))) return;
  const messageDelta = { delta: { stop_reason: stopReason, stop_sequence: null } };
  if (!b.noUsage) messageDelta.usage = { output_tokens: anthropicUsage(b, inputTokens, deltas.join('')).output_tokens };
  if (!(await event('message_delta', messageDelta))) return;
  if (!(await event('message_stop', {}))) return;
  res.end();
}

const ANTHROPIC_STOP_REASONS = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' };

/** Anthropic's usage: the computed counts, then the behaviour's (OpenAI-named) overrides. */
function anthropicUsage(b, inputTokens, completionText) {
  const usage = usageFor(b, inputTokens, completionText);
  return { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens };
}

/** Anthropic's error `type` for an HTTP status. */
function anthropicErrorType(status) {
  const types = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    402: 'billing_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    500: 'api_error',
    504: 'timeout_error',
    529: 'overloaded_error',
  };
  return types[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

// ---------------------------------------------------------------------------------------------
// Gemini
// ---------------------------------------------------------------------------------------------

/**
 * POST /v1beta/models/{model}:generateContent, or :streamGenerateContent?alt=sse.
 * @param {Ctx} ctx @param {boolean} stream
 */
async function geminiGenerateContent(ctx, stream) {
  const { res, record, behaviour: b } = ctx;
  const body = record.body;
  if (!body || !Array.isArray(body.contents) || body.contents.length === 0) {
    return sendError(ctx, 400, { message: 'fake-llm: * GenerateContentRequest.contents: contents is not specified' }, b.headers);
  }
  if (stream && record.query.alt !== 'sse') {
    // Without alt=sse the real API streams one JSON array; no SDK asks for that.
    return sendError(ctx, 400, { message: 'fake-llm: streamGenerateContent is only served as SSE (?alt=sse)' }, b.headers);
  }

  const modelVersion = b.model ?? record.model ?? 'fake-model';
  const responseId = `fake-resp-${ctx.responseId}`;
  const systemText = geminiContentText(body.systemInstruction);
  const promptTokens = (systemText ? tokens(systemText) + 3 : 0) + body.contents.reduce((sum, c) => sum + tokens(geminiContentText(c)) + 3, 0);
  const defaultContent = `Echo: ${geminiContentText(body.contents.at(-1))}`;
  const finishReason = mapFinishReason(b.finishReason, GEMINI_FINISH_REASONS);
  const response = (text, { finish = false, usageText = text } = {}) => {
    const candidate = { content: { role: 'model', parts: [{ text }] }, ...(finish ? { finishReason } : {}), index: 0 };
    const answer = { candidates: [candidate] };
    if (!b.noUsage) answer.usageMetadata = geminiUsage(b, promptTokens, usageText);
    return { ...answer, modelVersion, responseId };
  };

  if (!stream) {
    const content = b.content ?? (b.chunks ? b.chunks.join('') : defaultContent);
    return sendJson(res, 200, response(content, { finish: true }), b.headers);
  }

  const content = b.content ?? defaultContent;
  const split = b.chunks ?? splitEvery(content, Math.max(1, b.chunkSize));
  const deltas = split.length > 0 ? split : ['']; // the finishReason needs a chunk to travel in
  let sentText = '';
  startSse(res, b);
  const sent = await streamDeltas(ctx, deltas, (text, i) => {
    sentText += text;
    return sendEvent(res, response(text, { finish: i === deltas.length - 1, usageText: sentText }), undefined, '\r\n');
  });
  if (!sent) return;
  res.end();
}

const GEMINI_FINISH_REASONS = { stop: 'STOP', length: 'MAX_TOKENS', tool_calls: 'STOP', content_filter: 'SAFETY' };

/** Gemini's usageMetadata: the computed counts, then the behaviour's (OpenAI-named) overrides. */
function geminiUsage(b, promptTokens, completionText) {
  const usage = usageFor(b, promptTokens, completionText);
  return { promptTokenCount: usage.prompt_tokens, candidatesTokenCount: usage.completion_tokens, totalTokenCount: usage.total_tokens };
}

/** Google's canonical error `status` for an HTTP status. */
function googleErrorStatus(status) {
  const statuses = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'ABORTED',
    429: 'RESOURCE_EXHAUSTED',
    499: 'CANCELLED',
    500: 'INTERNAL',
    501: 'NOT_IMPLEMENTED',
    503: 'UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
  };
  return statuses[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
}

/** Text of a Gemini Content `{ role, parts: [{ text }] }` (or a bare string). */
function geminiContentText(content) {
  if (typeof content === 'string') return content;
  return Array.isArray(content?.parts) ? content.parts.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('') : '';
}

// ---------------------------------------------------------------------------------------------
// Shared by the providers
// ---------------------------------------------------------------------------------------------

/**
 * Send an error answer in the provider's shape.
 * @param {Ctx} ctx @param {number} status @param {Behaviour['error']} [error] @param {Record<string, string>} [headers]
 */
function sendError(ctx, status, error, headers) {
  return sendJson(ctx.res, status, errorPayload(ctx, status, error), headers);
}

/** The provider's error body for `status`. @param {Ctx} ctx @param {number} status @param {Behaviour['error']} [error] */
function errorPayload(ctx, status, error = {}) {
  const message = error.message ?? `Fake upstream error ${status}`;
  switch (ctx.route) {
    case 'anthropic':
      return { type: 'error', error: { type: error.type ?? anthropicErrorType(status), message }, request_id: `req_fake_${ctx.record.id}` };
    case 'gemini':
      return { error: { code: status, message, status: error.type ?? googleErrorStatus(status) } };
    default:
      return { error: errorBody(status, error) };
  }
}

/**
 * Send the content deltas with the behaviour's chunk delays, drop and in-stream error.
 * @param {Ctx} ctx
 * @param {string[]} deltas
 * @param {(text: string, index: number) => Promise<boolean>} sendDelta
 * @returns {Promise<boolean>}  true: every delta went out, carry on with the end of the stream;
 *   false: stop (the client went away, the fake dropped the connection or sent an error).
 */
async function streamDeltas(ctx, deltas, sendDelta) {
  const b = ctx.behaviour;
  const errorAt = b.streamError ? (b.streamError.afterChunks ?? 0) : undefined;
  /** Drop the connection or send the in-stream error once `sentCount` deltas are out. @returns {Promise<boolean>} true: stop. */
  const cut = async (sentCount) => {
    if (b.dropAfterChunks !== undefined && sentCount >= b.dropAfterChunks) {
      ctx.record.dropped = true;
      ctx.res.socket?.destroy();
      return true;
    }
    if (errorAt !== undefined && sentCount >= errorAt) {
      await sendStreamError(ctx);
      return true;
    }
    return false;
  };
  for (let i = 0; i < deltas.length; i++) {
    if (await cut(i)) return false;
    if (i > 0 && b.chunkDelayMs > 0 && !(await pause(b.chunkDelayMs, ctx.signal))) return false;
    if (!(await sendDelta(deltas[i], i))) return false;
  }
  if (await cut(deltas.length)) return false;
  if (deltas.length > 0 && b.chunkDelayMs > 0 && !(await pause(b.chunkDelayMs, ctx.signal))) return false;
  return true;
}

/** The provider's in-stream error event, then the end of the response. @param {Ctx} ctx */
async function sendStreamError(ctx) {
  const { status = 500, type, message } = ctx.behaviour.streamError ?? {};
  const payload = errorPayload(ctx, status, { type, message });
  const sent =
    ctx.route === 'anthropic'
      ? await sendEvent(ctx.res, { type: 'error', error: payload.error }, 'error')
      : await sendEvent(ctx.res, payload, undefined, ctx.route === 'gemini' ? '\r\n' : '\n');
  if (sent) ctx.res.end();
}

/** Map OpenAI's finish reasons to the provider's; anything else passes through. */
function mapFinishReason(finishReason = 'stop', names) {
  return Object.hasOwn(names, finishReason) ? names[finishReason] : finishReason;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** @param {import('node:http').IncomingMessage} req @returns {Promise<string>} */
function readBody(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const parts = [];
    req.on('data', (part) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request body aborted'));
    });
  });
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} payload
 * @param {Record<string, string>} [headers]
 */
function sendJson(res, status, payload, headers = {}) {
  if (res.destroyed || res.writableEnded) return;
  const json = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

/** Response headers of an SSE stream. @param {import('node:http').ServerResponse} res @param {Behaviour} b */
function startSse(res, b) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...(b.headers ?? {}),
  });
}

/**
 * Write one SSE event and wait until it is handed to the socket.
 * @param {import('node:http').ServerResponse} res
 * @param {unknown} data  An object (JSON-encoded) or a literal string such as '[DONE]'.
 * @param {string} [event]  The `event:` line (Anthropic); none by default.
 * @param {string} [eol]  Line ending: '\n' (default), or '\r\n' as Google sends.
 * @returns {Promise<boolean>}  false once the client has gone: stop writing.
 */
function sendEvent(res, data, event, eol = '\n') {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  const lines = `${event ? `event: ${event}${eol}` : ''}data: ${text}${eol}${eol}`;
  return new Promise((resolve) => {
    res.write(lines, (err) => resolve(!err && !res.destroyed));
  });
}

/**
 * Sleep unless the response closes first.
 * @returns {Promise<boolean>}  true if the full delay elapsed and the client is still there.
 */
async function pause(ms, signal) {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** @param {Behaviour} b */
function isErrorBehaviour(b) {
  return (typeof b.status === 'number' && b.status >= 400) || b.error !== undefined;
}

/** OpenAI's `{ message, type, code, param }` with defaults filled in. */
function errorBody(status, error = {}) {
  return {
    message: error.message ?? `Fake upstream error ${status}`,
    type: error.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
    code: error.code ?? null,
    param: error.param ?? null,
  };
}

/** Text of a message `content`: a string, or an array of parts whose text is joined. */
function messageText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === 'string' ? part : typeof part?.text === 'string' ? part.text : '')).join('');
  }
  return '';
}

/** @param {string} text */
function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The fake's tokenizer: one token per 4 characters, rounded up. */
function tokens(text) {
  return Math.ceil(text.length / 4);
}

/** Computed usage, then the behaviour's overrides (total recomputed unless overridden). */
function usageFor(b, promptTokens, completionText) {
  const usage = { prompt_tokens: promptTokens, completion_tokens: tokens(completionText), ...(b.usage ?? {}) };
  usage.total_tokens = b.usage?.total_tokens ?? usage.prompt_tokens + usage.completion_tokens;
  return usage;
}

/** @param {string} text @param {number} size @returns {string[]} */
function splitEvery(text, size) {
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * Deterministic embedding that ranks like a real one, roughly: a hashed bag of words. Each
 * lower-cased word (letters and digits, any script) adds ±1 to WORD_SLOTS dimensions picked by
 * hashing it (FNV-1a with a per-slot seed), then the vector is L2-normalised. Texts that share
 * words are near each other by cosine similarity, texts that share none are near orthogonal (with
 * enough dimensions); the same text always gives the same vector. A text without words is hashed
 * whole, so no vector is all zeros. Returned as a Float32Array so float and base64 answers agree.
 * @param {string} text @param {number} dimensions
 */
function embedText(text, dimensions) {
  const vector = new Float32Array(dimensions);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  for (const word of words) {
    for (let slot = 0; slot < WORD_SLOTS; slot++) {
      const hash = fnv1a(word, slot);
      vector[hash % dimensions] += hash & 0x80000000 ? -1 : 1;
    }
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm === 0) {
    vector[fnv1a(text, WORD_SLOTS) % dimensions] = 1;
    return vector;
  }
  for (let i = 0; i < dimensions; i++) vector[i] /= norm;
  return vector;
}

const WORD_SLOTS = 3;

/** 32-bit FNV-1a of the UTF-8 bytes of `text`, seeded. @param {string} text @param {number} seed */
function fnv1a(text, seed) {
  let hash = (0x811c9dc5 ^ Math.imul(seed + 1, 0x9e3779b1)) >>> 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

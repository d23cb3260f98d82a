// A fake OpenAI-compatible HTTP server for e2e tests and offline development.
//
// Only node: built-ins, no dependencies. It speaks just enough of the OpenAI REST API for the
// official `openai` SDK (and plain fetch) to work against it:
//   POST /v1/chat/completions   JSON or SSE stream (`stream: true`), usage, finish_reason
//   POST /v1/embeddings         deterministic vectors, `encoding_format` float or base64
//   GET  /v1/models             a short static list
// Anything else answers 500 with a loud message so that tests notice calls they did not expect.
//
// Tests steer the answers with "behaviours" (see {@link Behaviour}): a FIFO queue of one-shot
// behaviours shared by chat and embeddings requests, plus a default behaviour used when the
// queue is empty. Every request is recorded (see {@link RecordedRequest}), including whether the
// client went away before the response was complete.
//
// Usage:
//   const fake = await startFakeLlm();
//   process.env.OPENAI_BASE_URL = fake.baseUrl;
//   fake.enqueue({ status: 429, headers: { 'retry-after': '0' } }, { content: 'Hello!' });
//   ...
//   await fake.waitFor((f) => f.chatRequests().length === 2);
//   await fake.close();
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * @typedef {object} Behaviour  How to answer one request. Every field is optional.
 * @property {number} [status]  Answer with this HTTP status and an OpenAI-shaped error body
 *   (any status >= 400; a 2xx/3xx status here is ignored unless `error` is also given).
 * @property {{ message?: string, type?: string, code?: string|null, param?: string|null }} [error]
 *   Error details; alone (without `status`) it means status 500.
 *   Default message: `Fake upstream error <status>`.
 * @property {Record<string, string>} [headers]  Extra response headers (e.g. `retry-after`).
 * @property {number} [delayMs]  Wait this long before sending the response headers.
 * @property {boolean} [hang]  Never answer; the socket stays open until the client gives up.
 * @property {string} [content]  Full assistant text. Default: `Echo: <last message content>`.
 * @property {string[]} [chunks]  Explicit stream deltas. Default: `content` cut every `chunkSize`.
 * @property {number} [chunkSize]  Characters per default stream delta (default 4).
 * @property {number} [chunkDelayMs]  Delay between stream deltas (default 0).
 * @property {number} [dropAfterChunks]  Streaming only: destroy the socket after this many
 *   content deltas, as an upstream dropping mid-stream would (0: right after the role chunk;
 *   more than there are deltas: no drop).
 * @property {boolean} [noUsage]  Send no usage at all.
 * @property {{ prompt_tokens?: number, completion_tokens?: number, total_tokens?: number }} [usage]
 *   Override (part of) the computed usage.
 * @property {string} [model]  Model name to report. Default: the request's `model`.
 * @property {string} [finishReason]  Default 'stop'.
 * @property {number} [dimensions]  Embedding length. Default: the request's `dimensions`, else 8.
 */

/**
 * @typedef {object} RecordedRequest
 * @property {number} id  1, 2, 3... in arrival order.
 * @property {string} method
 * @property {string} path  URL path without the query string.
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
 * @property {string} baseUrl  e.g. `http://127.0.0.1:41234/v1` (for OPENAI_BASE_URL).
 * @property {number} port
 * @property {RecordedRequest[]} requests  Every request received, in arrival order.
 * @property {() => RecordedRequest[]} chatRequests  Requests to /v1/chat/completions.
 * @property {() => RecordedRequest[]} embeddingRequests  Requests to /v1/embeddings.
 * @property {() => number} abortCount  Number of requests the client aborted.
 * @property {() => number} openConnections  Number of currently open TCP sockets.
 * @property {(...behaviours: Behaviour[]) => FakeLlm} enqueue  Queue one-shot behaviours.
 * @property {(behaviour?: Behaviour) => FakeLlm} setDefault  Behaviour when the queue is empty.
 * @property {() => FakeLlm} reset  Clear queue, default behaviour and recorded requests.
 * @property {(predicate: (fake: FakeLlm) => unknown, timeoutMs?: number) => Promise<void>} waitFor
 * @property {() => Promise<void>} close  Stop listening and destroy open sockets.
 */

const CHAT_PATH = '/v1/chat/completions';
const EMBEDDINGS_PATH = '/v1/embeddings';
const MODELS_PATH = '/v1/models';

/** Built-in defaults; `setDefault()` and queued behaviours are merged over these. */
const BUILT_IN_BEHAVIOUR = Object.freeze({ chunkSize: 4, chunkDelayMs: 0, finishReason: 'stop' });
const DEFAULT_DIMENSIONS = 8;
const FAKE_MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'];

/**
 * Start a fake OpenAI server.
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
        sendJson(res, 500, { error: errorBody(500, { message: `fake-openai internal error: ${err?.message ?? err}` }) });
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
    const path = (req.url ?? '/').split('?')[0];
    /** @type {RecordedRequest} */
    const record = {
      id: ++requestSeq,
      method,
      path,
      headers: req.headers,
      body: null,
      receivedAt: Date.now(),
      closedAt: null,
      finished: false,
      aborted: false,
      dropped: false,
    };
    requests.push(record);
    res.setHeader('x-request-id', `req_fake_${record.id}`); // what the SDK exposes as request_id

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

    const route =
      method === 'POST' && path === CHAT_PATH
        ? 'chat'
        : method === 'POST' && path === EMBEDDINGS_PATH
          ? 'embeddings'
          : method === 'GET' && path === MODELS_PATH
            ? 'models'
            : 'unexpected';
    const behaviour = route === 'chat' || route === 'embeddings' ? { ...BUILT_IN_BEHAVIOUR, ...defaultBehaviour, ...(queue.shift() ?? {}) } : { ...BUILT_IN_BEHAVIOUR };

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

    if (route === 'unexpected') {
      return sendJson(res, 500, {
        error: { message: `fake-openai: unexpected request ${method} ${path}`, type: 'server_error', code: null, param: null },
      });
    }
    if (route === 'models') {
      return sendJson(res, 200, modelsList());
    }
    if (parseError) {
      return sendJson(res, 400, {
        error: errorBody(400, { message: `fake-openai: invalid JSON body: ${parseError.message}` }),
      });
    }

    const ctx = { req, res, record, behaviour, signal: gone.signal, responseId: ++responseSeq };
    if (behaviour.hang) return; // never answer; 'close' fires when the client gives up
    if (behaviour.delayMs > 0 && !(await pause(behaviour.delayMs, gone.signal))) return;
    if (isErrorBehaviour(behaviour)) {
      const status = behaviour.status >= 400 ? behaviour.status : 500;
      return sendJson(res, status, { error: errorBody(status, behaviour.error) }, behaviour.headers);
    }
    return route === 'chat' ? chatCompletion(ctx) : embeddings(ctx);
  }

  /** @type {FakeLlm} */
  const fake = {
    baseUrl: '',
    port: 0,
    requests,
    chatRequests: () => requests.filter((r) => r.path === CHAT_PATH),
    embeddingRequests: () => requests.filter((r) => r.path === EMBEDDINGS_PATH),
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
    reset() {
      queue.length = 0;
      defaultBehaviour = {};
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
        `fake-openai: waitFor timed out after ${timeoutMs}ms waiting for ${source} ` +
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
  fake.port = address.port;
  fake.baseUrl = `http://${urlHost}:${address.port}/v1`;
  return fake;
}

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} Ctx
 * @property {import('node:http').IncomingMessage} req
 * @property {import('node:http').ServerResponse} res
 * @property {RecordedRequest} record
 * @property {Behaviour & typeof BUILT_IN_BEHAVIOUR} behaviour
 * @property {AbortSignal} signal  Aborted once the response is closed.
 * @property {number} responseId
 */

/** POST /v1/chat/completions, JSON or SSE. @param {Ctx} ctx */
async function chatCompletion(ctx) {
  const { res, record, behaviour: b } = ctx;
  const body = record.body;
  if (!body || !Array.isArray(body.messages)) {
    return sendJson(
      res,
      400,
      {
        error: errorBody(400, { message: "fake-openai: 'messages' must be an array", param: 'messages' }),
      },
      b.headers,
    );
  }

  const id = `chatcmpl-${ctx.responseId}`;
  const created = Math.floor(Date.now() / 1000);
  const model = b.model ?? body.model ?? 'fake-model';
  const promptTokens = body.messages.reduce((sum, m) => sum + tokens(messageText(m?.content)) + 3, 0);
  const defaultContent = `Echo: ${messageText(body.messages.at(-1)?.content)}`;

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
          finish_reason: b.finishReason,
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
  const choice = (delta, finishReason = null) => ({ index: 0, delta, logprobs: null, finish_reason: finishReason });

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...(b.headers ?? {}),
  });
  if (!(await sendEvent(res, chunk([choice({ role: 'assistant', content: '' })])))) return;

  const drop = () => {
    record.dropped = true;
    res.socket?.destroy();
  };
  for (let i = 0; i < deltas.length; i++) {
    if (b.dropAfterChunks !== undefined && i >= b.dropAfterChunks) return drop();
    if (i > 0 && b.chunkDelayMs > 0 && !(await pause(b.chunkDelayMs, ctx.signal))) return;
    if (!(await sendEvent(res, chunk([choice({ content: deltas[i] })])))) return;
  }
  if (b.dropAfterChunks !== undefined && deltas.length >= b.dropAfterChunks) return drop();
  if (deltas.length > 0 && b.chunkDelayMs > 0 && !(await pause(b.chunkDelayMs, ctx.signal))) return;

  if (!(await sendEvent(res, chunk([choice({}, b.finishReason)])))) return;
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
    return sendJson(
      res,
      400,
      {
        error: errorBody(400, { message: "fake-openai: 'input' is required", param: 'input' }),
      },
      b.headers,
    );
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

/** GET /v1/models. */
function modelsList() {
  const created = 1_700_000_000;
  return { object: 'list', data: FAKE_MODELS.map((id) => ({ id, object: 'model', created, owned_by: 'fake-openai' })) };
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

/**
 * Write one SSE event and wait until it is handed to the socket.
 * @param {import('node:http').ServerResponse} res
 * @param {unknown} data  An object (JSON-encoded) or a literal string such as '[DONE]'.
 * @returns {Promise<boolean>}  false once the client has gone: stop writing.
 */
function sendEvent(res, data) {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return new Promise((resolve) => {
    res.write(`data: ${text}\n\n`, (err) => resolve(!err && !res.destroyed));
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
 * Deterministic pseudo-embedding: FNV-1a hash of the text seeds a small PRNG (mulberry32).
 * Values are in [-1, 1]; returned as a Float32Array so float and base64 answers agree exactly.
 * @param {string} text @param {number} dimensions
 */
function embedText(text, dimensions) {
  let seed = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    seed ^= byte;
    seed = Math.imul(seed, 0x01000193);
  }
  const vector = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    vector[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return vector;
}

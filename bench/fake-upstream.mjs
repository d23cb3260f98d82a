// A lean fake upstream for the benchmark (node: built-ins, and the tests' list of moderation categories): the OpenAI API, and the streaming
// and non-streaming chat of Anthropic's Messages API and Google's Gemini API.
//
// Why not test/support/fake-openai.mjs: that fake records every request (headers and parsed
// body) forever and builds each SSE chunk with object spreads + JSON.stringify; over a 10-minute
// run with 1,000-stream bursts it grows without bound and costs ~2x the CPU per chunk, CPU that
// this 2-core machine takes away from the service under test. This one keeps no history and
// pre-serialises the constant parts of every chunk, so it stays a near-constant, small load.
//
//   POST /v1/chat/completions   SSE (`stream: true`, with usage when stream_options.include_usage)
//                               or JSON; answers "<tag> t1 t2 ... t<n-1>" where <tag> is the
//                               first `[word]` of the last message (so each stream's text is
//                               unique and checkable) and n is the chunk count
//   POST /v1/embeddings         one vector per input of `dimensions` (default 1,536), as floats or
//                               base64 (`encoding_format`, the SDK asks for base64), after
//                               embedding-delay-ms: deterministic and clustered, near for texts that
//                               name the same `#<n>` (bench/lib/vectors.mjs), so searches over them
//                               have a meaningful recall
//   POST /v1/moderations        one result per input, never flagged (the 13 omni-moderation
//                               categories all false, with scores and input types as the real
//                               endpoint sends them), after moderation-delay-ms
//   POST /v1/messages           Anthropic (the SDK's baseURL is the origin): JSON, or with
//                               `stream: true` the named SSE events message_start,
//                               content_block_start, ping, content_block_delta (text_delta) per
//                               chunk, content_block_stop, message_delta (usage), message_stop
//   POST /v1beta/models/{model}:generateContent, :streamGenerateContent?alt=sse   Gemini (the SDK's
//                               httpOptions.baseUrl is the origin): JSON, or one `data:`
//                               GenerateContentResponse per chunk (CRLF-separated, as Google sends
//                               them), the last with finishReason and the full usageMetadata
//                               The same answer, tag and profile for all three.
//   GET  /_bench/config         the current profile;  POST /_bench/config  merges a new one
//   GET  /_bench/stats          requests, streams, chunks written, moderation requests (and how
//                               late their timers fired, in all), open connections, and per model
//                               asked for: chat requests and the fewest/most messages (Gemini:
//                               contents) one carried
//
// Profile (flags, env, or POST /_bench/config at run time):
//   --ttft-ms / FAKE_TTFT_MS          delay before the first content chunk (default 50)
//   --chunks / FAKE_CHUNKS            content chunks per answer (default 100)
//   --cadence-ms / FAKE_CADENCE_MS    delay between content chunks (default 10; 0 = back to back)
//   --chat-delay-ms / FAKE_CHAT_DELAY_MS   latency of a non-streaming completion (default 50)
//   --moderation-delay-ms / FAKE_MODERATION_DELAY_MS   latency of a moderation (default 0)
//   embeddingDelayMs (POST /_bench/config only)   latency of an embeddings answer (default null:
//                                     chat-delay-ms)
//   --port / FAKE_PORT                listen port (default 0 = any free one)
// Prints one JSON line `{"url": "http://127.0.0.1:<port>/v1", "pid": ...}` on stdout when ready.
import { createServer } from 'node:http';
import { answerText } from './lib/answer.mjs';
import { embedText } from './lib/vectors.mjs';
import { MODERATION_CATEGORIES } from '../test/support/moderation-categories.mjs';

const args = parseArgs(process.argv.slice(2));
const num = (flag, env, fallback) => {
  const raw = args[flag] ?? process.env[env];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`fake-upstream: bad --${flag} ${raw}`);
  return value;
};

const profile = {
  ttftMs: num('ttft-ms', 'FAKE_TTFT_MS', 50),
  chunks: Math.max(1, Math.floor(num('chunks', 'FAKE_CHUNKS', 100))),
  cadenceMs: num('cadence-ms', 'FAKE_CADENCE_MS', 10),
  chatDelayMs: num('chat-delay-ms', 'FAKE_CHAT_DELAY_MS', 50),
  embeddingDelayMs: null,
  moderationDelayMs: num('moderation-delay-ms', 'FAKE_MODERATION_DELAY_MS', 0),
};
const stats = {
  requests: 0,
  streams: 0,
  completions: 0,
  embeddings: 0,
  moderations: 0,
  moderationLateMs: 0,
  chunksWritten: 0,
  aborted: 0,
  openConnections: 0,
  byModel: {},
};
const CREATED = 1_700_000_000;
const TAG = /\[([A-Za-z0-9_-]{1,40})\]/;
const GEMINI_PATH = /^\/v1(?:beta)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

const server = createServer((req, res) => {
  stats.requests++;
  const parts = [];
  req.on('data', (part) => parts.push(part));
  req.on('end', () => {
    const path = (req.url ?? '/').split('?')[0];
    const body = parts.length ? Buffer.concat(parts).toString('utf8') : '';
    try {
      if (req.method === 'POST' && path === '/v1/chat/completions') return chat(req, res, JSON.parse(body));
      if (req.method === 'POST' && path === '/v1/embeddings') return embeddings(res, JSON.parse(body));
      if (req.method === 'POST' && path === '/v1/moderations') return moderations(res, JSON.parse(body));
      if (req.method === 'POST' && path === '/v1/messages') return anthropic(res, JSON.parse(body));
      const gemini = req.method === 'POST' ? GEMINI_PATH.exec(path) : null;
      if (gemini) return geminiGenerate(res, JSON.parse(body), decodeURIComponent(gemini[1]), gemini[2] === 'streamGenerateContent');
      if (path === '/_bench/config') {
        if (req.method === 'POST') Object.assign(profile, sanitize(JSON.parse(body || '{}')));
        return json(res, 200, profile);
      }
      if (path === '/_bench/stats') return json(res, 200, stats);
      return json(res, 404, { error: { message: `fake-upstream: no route ${req.method} ${path}`, type: 'invalid_request_error' } });
    } catch (error) {
      return json(res, 400, { error: { message: `fake-upstream: ${error.message}`, type: 'invalid_request_error' } });
    }
  });
});
// Longer than any client's keep-alive, so a pooled connection is never closed under a request.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.on('connection', (socket) => {
  stats.openConnections++;
  socket.setNoDelay(true);
  socket.on('close', () => stats.openConnections--);
});

function chat(req, res, body) {
  if (!body || !Array.isArray(body.messages)) return json(res, 400, { error: { message: "'messages' must be an array" } });
  const tag = tagOf(typeof body.messages.at(-1)?.content === 'string' ? body.messages.at(-1).content : '');
  const model = typeof body.model === 'string' ? body.model : 'fake-model';
  countPrompt(model, body.messages.length);
  const n = profile.chunks;
  const promptTokens = body.messages.reduce((sum, m) => sum + 3 + Math.ceil(String(m?.content ?? '').length / 4), 0);
  const usage = `{"prompt_tokens":${promptTokens},"completion_tokens":${n},"total_tokens":${promptTokens + n}}`;

  if (!body.stream) {
    const content = answerText(tag, n);
    const payload =
      `{"id":"chatcmpl-bench","object":"chat.completion","created":${CREATED},"model":${JSON.stringify(model)},` +
      `"system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(content)},"refusal":null},` +
      `"logprobs":null,"finish_reason":"stop"}],"usage":${usage}}`;
    return completion(res, payload);
  }

  const withUsage = Boolean(body.stream_options?.include_usage);
  const head = `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":${CREATED},"model":${JSON.stringify(model)},"system_fingerprint":"fp_bench","choices":[`;
  const tail = withUsage ? `,"usage":null}\n\n` : `}\n\n`;
  const usageChunk = `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":${CREATED},"model":${JSON.stringify(model)},"system_fingerprint":"fp_bench","choices":[],"usage":${usage}}\n\n`;
  streamAnswer(res, tag, n, {
    open: `${head}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]${tail}`,
    delta: (text) => `${head}{"index":0,"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]${tail}`,
    close: [`${head}{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]${tail}`, ...(withUsage ? [usageChunk] : []), 'data: [DONE]\n\n'],
  });
}

// Anthropic's Messages API (POST /v1/messages), as @anthropic-ai/sdk reads it.
function anthropic(res, body) {
  if (!body || !Array.isArray(body.messages) || typeof body.model !== 'string') {
    return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'model and messages are required' } });
  }
  const last = body.messages.at(-1)?.content;
  const tag = tagOf(typeof last === 'string' ? last : Array.isArray(last) ? last.map((part) => part?.text ?? '').join('') : '');
  const model = JSON.stringify(body.model);
  countPrompt(body.model, body.messages.length);
  const n = profile.chunks;
  const systemText = typeof body.system === 'string' ? body.system : '';
  const inputTokens = body.messages.reduce(
    (sum, m) => sum + 3 + Math.ceil(JSON.stringify(m?.content ?? '').length / 4),
    systemText ? 3 + Math.ceil(systemText.length / 4) : 0,
  );

  if (!body.stream) {
    const payload =
      `{"id":"msg_bench","type":"message","role":"assistant","model":${model},"content":[{"type":"text","text":${JSON.stringify(answerText(tag, n))}}],` +
      `"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":${inputTokens},"output_tokens":${n}}}`;
    return completion(res, payload);
  }

  const event = (type, data) => `event: ${type}\ndata: ${data}\n\n`;
  streamAnswer(res, tag, n, {
    open:
      event(
        'message_start',
        `{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":${model},"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":${inputTokens},"output_tokens":1}}}`,
      ) +
      event('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}') +
      event('ping', '{"type":"ping"}'),
    delta: (text) => event('content_block_delta', `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(text)}}}`),
    close: [
      event('content_block_stop', '{"type":"content_block_stop","index":0}'),
      event('message_delta', `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":${n}}}`),
      event('message_stop', '{"type":"message_stop"}'),
    ],
  });
}

// Gemini's generateContent / streamGenerateContent?alt=sse, as @google/genai reads them.
function geminiGenerate(res, body, model, isStream) {
  if (!body || !Array.isArray(body.contents) || body.contents.length === 0) {
    return json(res, 400, { error: { code: 400, message: 'contents is not specified', status: 'INVALID_ARGUMENT' } });
  }
  const partsText = (content) => (Array.isArray(content?.parts) ? content.parts.map((part) => part?.text ?? '').join('') : '');
  const tag = tagOf(partsText(body.contents.at(-1)));
  countPrompt(model, body.contents.length);
  const n = profile.chunks;
  const systemText = partsText(body.systemInstruction);
  const promptTokens = body.contents.reduce((sum, c) => sum + 3 + Math.ceil(partsText(c).length / 4), systemText ? 3 + Math.ceil(systemText.length / 4) : 0);
  const ids = `"modelVersion":${JSON.stringify(model)},"responseId":"resp_bench"`;
  const candidate = (text, finish) =>
    `{"candidates":[{"content":{"parts":[{"text":${JSON.stringify(text)}}],"role":"model"},${finish ? '"finishReason":"STOP",' : ''}"index":0}],`;
  const fullUsage = `"usageMetadata":{"promptTokenCount":${promptTokens},"candidatesTokenCount":${n},"totalTokenCount":${promptTokens + n}},${ids}}`;

  if (!isStream) return completion(res, candidate(answerText(tag, n), true) + fullUsage);
  // Like the real API, every chunk carries the usage so far; the last one the finish reason.
  const partUsage = `"usageMetadata":{"promptTokenCount":${promptTokens},"totalTokenCount":${promptTokens}},${ids}}`;
  streamAnswer(res, tag, n, {
    open: '',
    delta: (text, i) => `data: ${candidate(text, i === n - 1)}${i === n - 1 ? fullUsage : partUsage}\r\n\r\n`,
    close: [],
  });
}

// A streamed answer in any provider's framing: `open` with the headers, the n chunks of the answer
// (`delta(text, i)`) after ttft-ms and then one every cadence-ms, the `close` events (one write
// each) and the end.
function streamAnswer(res, tag, n, { open, delta, close }) {
  stats.streams++;
  const { ttftMs, cadenceMs } = profile;
  let gone = false;
  let timer;
  res.on('close', () => {
    if (!res.writableFinished) stats.aborted++;
    gone = true;
    clearTimeout(timer);
  });
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_bench' });
  if (open) res.write(open);
  else res.flushHeaders();
  let i = 0;
  const step = () => {
    if (gone) return;
    // With cadence 0 every chunk goes out in one tick, as a fast upstream's buffered burst would.
    do {
      res.write(delta(i === 0 ? tag : ` t${i}`, i));
      stats.chunksWritten++;
      i++;
    } while (i < n && cadenceMs === 0);
    if (i < n) {
      timer = setTimeout(step, cadenceMs);
      return;
    }
    for (let k = 0; k < close.length - 1; k++) res.write(close[k]);
    res.end(close.at(-1));
  };
  timer = setTimeout(step, ttftMs);
}

// A non-streaming answer, after chat-delay-ms.
function completion(res, payload) {
  stats.completions++;
  const send = () => {
    if (!res.destroyed) json(res, 200, payload, true);
  };
  return profile.chatDelayMs > 0 ? setTimeout(send, profile.chatDelayMs) : send();
}

const tagOf = (text) => TAG.exec(text)?.[1] ?? 'x';

function countPrompt(model, messages) {
  const entry = (stats.byModel[model] ??= { requests: 0, minMessages: messages, maxMessages: messages });
  entry.requests++;
  entry.minMessages = Math.min(entry.minMessages, messages);
  entry.maxMessages = Math.max(entry.maxMessages, messages);
}

function embeddings(res, body) {
  const inputs = Array.isArray(body?.input) ? body.input : [body?.input];
  if (inputs.some((x) => typeof x !== 'string' || !x)) return json(res, 400, { error: { message: "'input' must be a non-empty string or an array of them" } });
  const dimensions = body.dimensions ?? 1536;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096) return json(res, 400, { error: { message: "'dimensions' must be a whole number 1..4096" } });
  stats.embeddings++;
  const base64 = body.encoding_format === 'base64';
  const tokens = inputs.reduce((sum, x) => sum + Math.ceil(x.length / 4), 0);
  const data = inputs
    .map((text, i) => {
      const v = embedText(text, dimensions);
      const encoded = base64 ? `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"` : JSON.stringify(Array.from(v));
      return `{"object":"embedding","index":${i},"embedding":${encoded}}`;
    })
    .join(',');
  const payload = `{"object":"list","data":[${data}],"model":${JSON.stringify(typeof body.model === 'string' ? body.model : 'fake-embedding-model')},"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`;
  const send = () => {
    if (!res.destroyed) json(res, 200, payload, true);
  };
  const delay = profile.embeddingDelayMs ?? profile.chatDelayMs;
  return delay > 0 ? setTimeout(send, delay) : send();
}

// One unflagged moderation result, serialised once.
const byCategory = (value) => Object.fromEntries(MODERATION_CATEGORIES.map((name, i) => [name, value(i)]));
const MODERATION_RESULT = JSON.stringify({
  flagged: false,
  categories: byCategory(() => false),
  category_scores: byCategory((i) => 1e-6 * (i + 1)),
  category_applied_input_types: byCategory(() => ['text']),
});

function moderations(res, body) {
  const inputs = Array.isArray(body?.input) ? body.input : [body?.input];
  if (inputs.length === 0 || inputs.some((x) => typeof x !== 'string' || !x)) {
    return json(res, 400, { error: { message: "'input' must be a non-empty string or an array of them", type: 'invalid_request_error' } });
  }
  stats.moderations++;
  const model = JSON.stringify(typeof body.model === 'string' ? body.model : 'omni-moderation-latest');
  const payload = `{"id":"modr-bench","model":${model},"results":[${inputs.map(() => MODERATION_RESULT).join(',')}]}`;
  const delayMs = profile.moderationDelayMs;
  const t0 = performance.now();
  const send = () => {
    // A timer fires late, never early: how late is part of what a client sees, not the service's.
    stats.moderationLateMs += performance.now() - t0 - delayMs;
    if (!res.destroyed) json(res, 200, payload, true);
  };
  return delayMs > 0 ? setTimeout(send, delayMs) : send();
}

function json(res, status, payload, isSerialized = false) {
  const text = isSerialized ? payload : JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': 'req_bench' });
  res.end(text);
}

function sanitize(input) {
  const out = {};
  if (input.embeddingDelayMs === null) out.embeddingDelayMs = null;
  for (const key of ['ttftMs', 'chunks', 'cadenceMs', 'chatDelayMs', 'moderationDelayMs', 'embeddingDelayMs']) {
    if (input[key] === undefined || input[key] === null) continue;
    const value = Number(input[key]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`bad ${key}`);
    out[key] = key === 'chunks' ? Math.max(1, Math.floor(value)) : value;
  }
  return out;
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    out[m[1]] = m[2] ?? argv[++i];
  }
  return out;
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const port = num('port', 'FAKE_PORT', 0);
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/v1`, pid: process.pid, profile })}\n`);
  });
  const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// The load generator's clients. The same code drives both sides of each comparison:
// - streaming via the service: socket.io-client on namespace /ai, websocket transport, as a browser
//   client connects;
// - streaming direct: the openai SDK (the library the service itself uses upstream), or with
//   --direct=sse a plain fetch + SSE line parser; for Anthropic and Gemini (figure 7) their SDKs,
//   set up as the service sets them up;
// - streaming through a peer gateway (figure 13): the direct client, pointed at the gateway with its
//   routing headers;
// - non-streaming, both sides: fetch (undici, keep-alive) with a JSON body.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { io } from 'socket.io-client';
import { chunksIn } from './answer.mjs';

export function connectSocket(baseUrl, token, timeoutMs = 10_000) {
  const socket = io(`${baseUrl}/ai`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: timeoutMs });
  attachStreamState(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (socket.close(), reject(new Error('socket connect timed out'))), timeoutMs);
    socket.once('connect', () => (clearTimeout(timer), resolve(socket)));
    socket.once('connect_error', (error) => (clearTimeout(timer), socket.close(), reject(error)));
  });
}

export async function connectSockets(baseUrl, tokens, { batch = 100 } = {}) {
  const sockets = [];
  for (let i = 0; i < tokens.length; i += batch) {
    sockets.push(...(await Promise.all(tokens.slice(i, i + batch).map((t) => connectSocket(baseUrl, t)))));
  }
  return sockets;
}

// Persistent listeners per socket; each stream swaps in a fresh state object.
function attachStreamState(socket) {
  socket.bench = { state: null, conversationId: undefined };
  socket.on('chat:conversation', (data) => {
    socket.bench.conversationId = data.conversationId;
  });
  socket.on('chat:message', (data) => {
    const s = socket.bench.state;
    if (!s) return;
    const now = performance.now();
    if (s.chunks === 0) s.ttft = now - s.t0;
    s.lastAt = now;
    s.chunks++;
    s.text += data.content;
    if (s.chunks === s.actAt) s.act();
  });
  const finish = (event) => (data) => {
    const s = socket.bench.state;
    if (!s || s.done) return;
    s.done = true;
    s.endEvent = event;
    s.endData = data;
    s.endAt = performance.now();
    clearTimeout(s.timer);
    s.resolve();
  };
  socket.on('chat:end', finish('chat:end'));
  socket.on('chat:stopped', finish('chat:stopped'));
  socket.on('chat:error', finish('chat:error'));
  socket.on('disconnect', finish('disconnect'));
}

// One streamed turn over the socket. Resolves (never rejects) with timings relative to the emit.
// A turn can be cut short after `stopAfterChunks` chunks (emits chat:stop; ok once chat:stopped
// arrives) or `disconnectAfterChunks` chunks (closes the socket mid-stream; ok once it is closed).
// A turn cut short is ok if the text so far is the start of `expected`.
// `model` (a registry id), `knowledge`, `resumable` and `parentMessageId` are sent only when given.
export function streamViaSocket(
  socket,
  { message, expected, model, knowledge, resumable, parentMessageId, timeoutMs = 60_000, stopAfterChunks = 0, disconnectAfterChunks = 0 },
) {
  const expectEnd = stopAfterChunks ? 'chat:stopped' : disconnectAfterChunks ? 'disconnect' : 'chat:end';
  return new Promise((resolve) => {
    const s = { t0: 0, ttft: NaN, lastAt: NaN, endAt: NaN, chunks: 0, text: '', done: false, endEvent: null, endData: null, actAt: 0, act: null };
    if (stopAfterChunks) ((s.actAt = stopAfterChunks), (s.act = () => socket.emit('chat:stop')));
    else if (disconnectAfterChunks) ((s.actAt = disconnectAfterChunks), (s.act = () => socket.disconnect()));
    s.resolve = () => {
      socket.bench.state = null;
      const textOk = expected === undefined || (expectEnd === 'chat:end' ? s.text === expected : expected.startsWith(s.text));
      const ok = s.endEvent === expectEnd && textOk;
      resolve({
        ok,
        error: ok ? null : s.endEvent === expectEnd ? 'text mismatch' : `${s.endEvent}: ${JSON.stringify(s.endData)}`,
        endEvent: s.endEvent,
        endData: s.endData,
        fullText: s.text === expected,
        ttft: s.ttft,
        ttlt: s.lastAt - s.t0,
        total: s.endAt - s.t0,
        chunks: chunksIn(s.text),
        events: s.chunks,
        startedAt: s.t0,
        endedAt: s.endAt,
      });
    };
    s.timer = setTimeout(() => {
      if (s.done) return;
      s.done = true;
      s.endEvent = 'timeout';
      s.endAt = performance.now();
      s.resolve();
    }, timeoutMs);
    socket.bench.state = s;
    s.t0 = performance.now();
    socket.emit('chat:start', {
      message,
      conversationId: socket.bench.conversationId ?? null,
      ...(model ? { model } : {}),
      ...(knowledge ? { knowledge } : {}),
      ...(resumable ? { resumable } : {}),
      ...(parentMessageId ? { parentMessageId } : {}),
    });
  });
}

// `defaultHeaders`: a peer gateway's routing headers (figure 13), sent with every request.
export function createDirectClient(baseURL, defaultHeaders = undefined) {
  return new OpenAI({ apiKey: 'sk-bench-direct', baseURL, defaultHeaders, maxRetries: 0, timeout: 120_000 });
}

const STREAM_PARAMS = { max_tokens: 4096, temperature: 0.7, stream: true, stream_options: { include_usage: true } };

// One streamed completion straight from the upstream with the openai SDK.
export function streamDirectSdk(client, { model, message, expected }) {
  return timedDeltas(
    () => client.chat.completions.create({ model, messages: [{ role: 'user', content: message }], ...STREAM_PARAMS }),
    (chunk) => chunk.choices[0]?.delta?.content,
    expected,
  );
}

// Anthropic's and Gemini's SDKs with the options the service gives them (src/ai/llm/providers):
// no retries, the same timeout; Gemini with the platform's fetch.
export function createAnthropicClient(origin) {
  return new Anthropic({ apiKey: 'sk-bench-direct', baseURL: origin, maxRetries: 0, timeout: 120_000 });
}

export function createGeminiClient(origin) {
  return new GoogleGenAI({ apiKey: 'bench-direct', httpOptions: { baseUrl: origin, timeout: 120_000, retryOptions: { attempts: 1 }, fetch } });
}

// The parameters the service sends with its defaults (maxTokens 4096, temperature 0.7).
const ANSWER = { maxTokens: 4096, temperature: 0.7 };

// One streamed answer straight from the upstream with @anthropic-ai/sdk (messages.create, stream).
export function streamDirectAnthropic(client, { model, message, expected }) {
  return timedDeltas(
    () => client.messages.create({ model, max_tokens: ANSWER.maxTokens, temperature: ANSWER.temperature, messages: [{ role: 'user', content: message }], stream: true }),
    (event) => (event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : ''),
    expected,
  );
}

// The same with @google/genai (models.generateContentStream).
export function streamDirectGemini(client, { model, message, expected }) {
  return timedDeltas(
    () =>
      client.models.generateContentStream({
        model,
        contents: [{ role: 'user', parts: [{ text: message }] }],
        config: { maxOutputTokens: ANSWER.maxTokens, temperature: ANSWER.temperature },
      }),
    (chunk) => chunk.text,
    expected,
  );
}

// Times a stream opened by `open()`: TTFT and time to last token of the non-empty `deltaOf(event)`.
async function timedDeltas(open, deltaOf, expected) {
  const t0 = performance.now();
  let ttft = NaN;
  let lastAt = NaN;
  let chunks = 0;
  let text = '';
  try {
    for await (const event of await open()) {
      const delta = deltaOf(event);
      if (delta) {
        const now = performance.now();
        if (chunks === 0) ttft = now - t0;
        lastAt = now;
        chunks++;
        text += delta;
      }
    }
    const endAt = performance.now();
    const ok = expected === undefined || text === expected;
    return { ok, error: ok ? null : 'text mismatch', ttft, ttlt: lastAt - t0, total: endAt - t0, chunks, startedAt: t0, endedAt: endAt };
  } catch (error) {
    return { ok: false, error: String(error?.message ?? error), ttft, ttlt: NaN, total: NaN, chunks, startedAt: t0, endedAt: performance.now() };
  }
}

// A minimal SSE parser for the direct clients: feed it text as it arrives; it calls `onDelta` with
// each chunk's content.
function sseDeltaSplitter(onDelta) {
  let pending = '';
  return (text) => {
    pending += text;
    let cut;
    while ((cut = pending.indexOf('\n\n')) >= 0) {
      const event = pending.slice(0, cut);
      pending = pending.slice(cut + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const delta = JSON.parse(event.slice(6)).choices[0]?.delta?.content;
      if (delta) onDelta(delta);
    }
  };
}

// The same with fetch and a minimal SSE parser (no SDK): `--direct=sse`. `headers` go with the
// request (a peer gateway's routing headers, figure 13).
export async function streamDirectSse(baseURL, { model, message, expected, headers = {} }) {
  const t0 = performance.now();
  let ttft = NaN;
  let lastAt = NaN;
  let chunks = 0;
  let text = '';
  const onDelta = (delta) => {
    const now = performance.now();
    if (chunks === 0) ttft = now - t0;
    lastAt = now;
    chunks++;
    text += delta;
  };
  try {
    const res = await fetch(`${baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-direct', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: message }], ...STREAM_PARAMS }),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const decoder = new TextDecoder();
    const feed = sseDeltaSplitter(onDelta);
    for await (const part of res.body) feed(decoder.decode(part, { stream: true }));
    const endAt = performance.now();
    const ok = expected === undefined || text === expected;
    return { ok, error: ok ? null : 'text mismatch', ttft, ttlt: lastAt - t0, total: endAt - t0, chunks, startedAt: t0, endedAt: endAt };
  } catch (error) {
    return { ok: false, error: String(error?.message ?? error), ttft, ttlt: NaN, total: NaN, chunks, startedAt: t0, endedAt: performance.now() };
  }
}

// One JSON POST; resolves with { ok, status, latency, body }.
export async function postJson(url, body, headers = {}) {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const json = await res.json();
    const latency = performance.now() - t0;
    return { ok: res.ok, status: res.status, latency, body: json, startedAt: t0, endedAt: t0 + latency };
  } catch (error) {
    return { ok: false, status: 0, latency: performance.now() - t0, body: null, error: String(error?.message ?? error), startedAt: t0, endedAt: performance.now() };
  }
}

// The same with node:http (keep-alive agent) and the minimal SSE parser: no fetch, no web streams.
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });
export function streamDirectHttp(baseURL, { model, message, expected }) {
  const t0 = performance.now();
  let ttft = NaN;
  let lastAt = NaN;
  let chunks = 0;
  let text = '';
  const onDelta = (delta) => {
    const now = performance.now();
    if (chunks === 0) ttft = now - t0;
    lastAt = now;
    chunks++;
    text += delta;
  };
  const fail = (error) => ({ ok: false, error: String(error?.message ?? error), ttft, ttlt: NaN, total: NaN, chunks, startedAt: t0, endedAt: performance.now() });
  return new Promise((resolve) => {
    const body = JSON.stringify({ model, messages: [{ role: 'user', content: message }], ...STREAM_PARAMS });
    const req = http.request(
      `${baseURL}/chat/completions`,
      {
        method: 'POST',
        agent: keepAlive,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer sk-bench-direct' },
      },
      (res) => {
        if (res.statusCode !== 200) return (res.resume(), resolve(fail(`HTTP ${res.statusCode}`)));
        res.setEncoding('utf8');
        res.on('data', sseDeltaSplitter(onDelta));
        res.on('end', () => {
          const endAt = performance.now();
          const ok = expected === undefined || text === expected;
          resolve({ ok, error: ok ? null : 'text mismatch', ttft, ttlt: lastAt - t0, total: endAt - t0, chunks, startedAt: t0, endedAt: endAt });
        });
        res.on('error', (e) => resolve(fail(e)));
      },
    );
    req.on('error', (e) => resolve(fail(e)));
    req.end(body);
  });
}

// Load helpers shared by the figures: the ABBA order, the prompt, one direct stream (or one through a
// peer gateway), one non-streaming completion or REST turn, rounds of ABBA quads, bursts of
// simultaneous streams, fixed-duration runs at a concurrency, autocannon runs, and percentile
// arithmetic over rounds.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { answerText } from './answer.mjs';
import { postJson, streamDirectSdk, streamDirectSse, streamViaSocket } from './clients.mjs';
import { log } from './children.mjs';
import { ROOT } from './options.mjs';
import { cpuMs, peakRssMb, resetPeakRss } from './proc.mjs';
import { max, median, percentile, sum } from './stats.mjs';

export const ABBA = ['A', 'B', 'B', 'A'];

// Each prompt carries its own tag, which the fake echoes as the answer's first chunk.
export const msg = (tag) => `[${tag}] Tell me about the weather on Mars in a few sentences.`;

export function directStream(ctx, tag, chunks) {
  const args = { model: ctx.opts.model, message: msg(tag), expected: answerText(tag, chunks) };
  return ctx.opts.direct === 'sse' ? streamDirectSse(ctx.fake.url, args) : streamDirectSdk(ctx.direct, args);
}

// The same client as directStream, through a peer gateway (`peer` from lib/peer.mjs: its base URL,
// routing headers and an SDK client carrying them), for figure 13.
export function peerStream(ctx, peer, tag, chunks) {
  const args = { model: ctx.opts.model, message: msg(tag), expected: answerText(tag, chunks) };
  return ctx.opts.direct === 'sse' ? streamDirectSse(peer.url, { ...args, headers: peer.headers }) : streamDirectSdk(peer.client, args);
}

// One non-streaming completion from an OpenAI-compatible base URL (the fake, or a peer gateway in
// front of it with its `headers`), with fetch; ok only if the answer's text is exact.
// The prior messages a turn of the service sends upstream (its AI_HISTORY_LIMIT, 10 by default).
export const SERVICE_HISTORY_LIMIT = 10;

// One chat completion. With `conversation` ({ history: [] }), the client keeps the conversation
// itself and sends it each time, as an app must through a stateless gateway and as the service does
// upstream: the prior SERVICE_HISTORY_LIMIT messages, then the question.
export async function completion(ctx, baseURL, tag, headers = {}, conversation = null) {
  const question = { role: 'user', content: msg(tag) };
  const res = await postJson(
    `${baseURL}/chat/completions`,
    { model: ctx.opts.model, messages: conversation ? [...conversation.history, question] : [question], max_tokens: 4096, temperature: 0.7 },
    { authorization: 'Bearer sk-bench-direct', ...headers },
  );
  const answer = res.body?.choices?.[0]?.message?.content;
  const ok = res.ok && answer === answerText(tag, ctx.opts.stream.chunks);
  if (ok && conversation) conversation.history = [...conversation.history, question, { role: 'assistant', content: answer }].slice(-SERVICE_HISTORY_LIMIT);
  return { ...res, ok };
}

// One `POST /api/v1/ai/chat` turn; `state.conversationId` carries the conversation on (null: a new one).
export async function serviceTurn(ctx, service, token, state, tag) {
  const res = await postJson(`${service.base}/api/v1/ai/chat`, { message: msg(tag), conversationId: state.conversationId }, { authorization: `Bearer ${token}` });
  if (res.ok) state.conversationId = res.body.conversationId;
  return { ...res, ok: res.ok && res.body?.content === answerText(tag, ctx.opts.stream.chunks) };
}

export function diffPercentiles(a, b, ps) {
  const out = {};
  for (const p of ps) out[`p${p}`] = percentile(b, p) - percentile(a, p);
  return out;
}

export function medianOf(rounds, key) {
  return median(rounds.map((r) => r[key]).filter(Number.isFinite));
}

// Rounds of ABBA quads: `run(side, tag, group)` resolves { ok, error, value }. With `groups` > 1
// the quads take turns between the groups (a comparison and its A/A control, or two service
// instances), so that drift hits every group alike. Each group is summarised on its own: per
// round, the added p50/p95/p99 of B over A and A's and B's p50; then the median over rounds.
export async function abbaGroups({ figure, rounds, perRound, warmUp = 20, groups = 1, run, label, groupName = (group) => (groups > 1 ? ` ${group}` : '') }) {
  for (let i = 0; i < warmUp * groups; i++) await run(ABBA[i % 4], `w${figure}${label}_${i}`, Math.floor(i / 4) % groups);
  const perGroup = Array.from({ length: groups }, () => ({ rounds: [], errors: [] }));
  for (let r = 0; r < rounds; r++) {
    const samples = perGroup.map(() => ({ A: [], B: [] }));
    for (let i = 0; i < perRound * 2 * groups; i++) {
      const side = ABBA[i % 4];
      const group = Math.floor(i / 4) % groups;
      const res = await run(side, `m${label}${r}_${i}`, group);
      if (!res.ok) perGroup[group].errors.push(`${side}: ${res.error}`);
      else samples[group][side].push(res.value);
    }
    samples.forEach(({ A, B }, group) => {
      const d = diffPercentiles(A, B, [50, 95, 99]);
      perGroup[group].rounds.push({ p50: d.p50, p95: d.p95, p99: d.p99, a50: percentile(A, 50), b50: percentile(B, 50), n: Math.min(A.length, B.length) });
      log(
        `fig ${figure} ${label}${groupName(group)} round ${r + 1}: added p50 ${d.p50.toFixed(2)} p95 ${d.p95.toFixed(2)} p99 ${d.p99.toFixed(2)} ms (A p50 ${percentile(A, 50).toFixed(2)} ms)`,
      );
    });
  }
  return perGroup.map(({ rounds: out, errors }) => ({
    ...Object.fromEntries(Object.keys(out[0]).map((k) => [k, medianOf(out, k)])),
    errors,
    rounds: out,
  }));
}

// N simultaneous streams, direct (A), through a peer gateway (P, figure 13) or through the service's
// sockets (any other side), resumable or not. CPU and peak RSS are those of the process in the
// middle (the fake's for A).
export async function runConcurrent(ctx, side, { n, sockets, service, peer, tagPrefix, timeoutMs = 120_000, resumable = false }) {
  const { fake } = ctx;
  const chunks = ctx.opts.stream.chunks;
  const pid = side === 'A' ? fake.pid : side === 'P' ? peer.pid : service.pid;
  if (side !== 'A') resetPeakRss(pid);
  const cpu0 = cpuMs(pid);
  const fakeCpu0 = cpuMs(fake.pid);
  const tStart = performance.now();
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const tag = `${tagPrefix}_${i}`;
    jobs.push(
      side === 'A'
        ? directStream(ctx, tag, chunks)
        : side === 'P'
          ? peerStream(ctx, peer, tag, chunks)
          : streamViaSocket(sockets[i], { message: msg(tag), expected: answerText(tag, chunks), timeoutMs, resumable }),
    );
  }
  const res = await Promise.all(jobs);
  const tEnd = performance.now();
  const ok = res.filter((r) => r.ok);
  const cpu = cpuMs(pid) - cpu0;
  return {
    side,
    n,
    completed: ok.length,
    errors: res.filter((r) => !r.ok).map((r) => r.error),
    ttfts: ok.map((r) => r.ttft),
    chunks: sum(res.map((r) => r.chunks)),
    wallSecs: (tEnd - tStart) / 1000,
    chunksPerSec: sum(res.map((r) => r.chunks)) / ((max(res.map((r) => r.endedAt)) - tStart) / 1000),
    cpuMsPerStream: cpu / n,
    fakeCpuMsPerStream: (cpuMs(fake.pid) - fakeCpu0) / n,
    peakRssMb: side !== 'A' ? peakRssMb(pid) : NaN,
  };
}

// `C` workers, each calling `once(worker, tag)` back to back for `secs`: requests/s (completed ones
// over the time to the last end), latency p50/p99 of the good ones, errors, and the CPU of process
// `pid` per request.
export async function runForDuration({ C, secs, pid, label, once }) {
  const cpu0 = cpuMs(pid);
  const start = performance.now();
  const deadline = start + secs * 1000;
  const latencies = [];
  const errors = [];
  let lastEnd = start;
  await Promise.all(
    Array.from({ length: C }, async (_, w) => {
      for (let i = 0; performance.now() < deadline && i < 100_000; i++) {
        const res = await once(w, `${label}_${w}_${i}`);
        lastEnd = Math.max(lastEnd, res.endedAt);
        if (res.ok) latencies.push(res.latency);
        else errors.push(`${res.status} ${res.error ?? JSON.stringify(res.body).slice(0, 200)}`);
      }
    }),
  );
  const secsTaken = (lastEnd - start) / 1000;
  return {
    rps: latencies.length / secsTaken,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    count: latencies.length,
    cpuMsPerReq: (cpuMs(pid) - cpu0) / Math.max(1, latencies.length + errors.length),
  };
}

// autocannon in its own process (so that it does not share this one's event loop), JSON output.
export function autocannon(url, token, secs, connections = 50) {
  const bin = path.join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
  const out = execFileSync(process.execPath, [bin, '-c', String(connections), '-d', String(secs), '-j', '-H', `Authorization=Bearer ${token}`, url], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: (secs + 30) * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const r = JSON.parse(out);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts, total: r.requests.total };
}

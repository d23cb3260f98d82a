// Figure 1: one client, sequential turns, streaming and non-streaming, service (B) vs direct (A).
import { answerText } from '../lib/answer.mjs';
import { connectSocket, streamViaSocket } from '../lib/clients.mjs';
import { log } from '../lib/children.mjs';
import { ABBA, completion, diffPercentiles, directStream, medianOf, msg, serviceTurn } from '../lib/load.mjs';
import { check, f1, missBy } from '../lib/format.mjs';
import { setFakeProfile } from '../lib/services.mjs';
import { percentile } from '../lib/stats.mjs';

export async function figureOneClient(ctx, service, user) {
  const { opts, fake } = ctx;
  const { sizes } = opts;
  const chunks = opts.stream.chunks;
  await setFakeProfile(fake, { ...opts.stream, cadenceMs: opts.oneClientCadenceMs });
  const socket = await connectSocket(service.base, user.token);
  const runSide = async (side, tag) =>
    side === 'A' ? directStream(ctx, tag, chunks) : streamViaSocket(socket, { message: msg(tag), expected: answerText(tag, chunks) });
  // Warm-up (JIT, pools, the conversation's first turn); not measured.
  for (let i = 0; i < 20; i++) await runSide(ABBA[i % 4], `w1_${i}`);
  const rounds = [];
  const errors = [];
  for (let r = 0; r < sizes.oneRounds; r++) {
    const A = [];
    const B = [];
    for (let i = 0; i < sizes.onePerRound * 2; i++) {
      const side = ABBA[i % 4];
      const res = await runSide(side, `o${r}_${i}`);
      if (!res.ok) errors.push(`${side}: ${res.error}`);
      else (side === 'A' ? A : B).push(res);
    }
    const ttft = diffPercentiles(
      A.map((x) => x.ttft),
      B.map((x) => x.ttft),
      [50, 95, 99],
    );
    const ttlt = diffPercentiles(
      A.map((x) => x.ttlt),
      B.map((x) => x.ttlt),
      [50, 95, 99],
    );
    rounds.push({
      ttft50: ttft.p50,
      ttft95: ttft.p95,
      ttft99: ttft.p99,
      ttlt50: ttlt.p50,
      ttlt95: ttlt.p95,
      ttlt99: ttlt.p99,
      directTtft50: percentile(
        A.map((x) => x.ttft),
        50,
      ),
      directTtlt50: percentile(
        A.map((x) => x.ttlt),
        50,
      ),
      n: Math.min(A.length, B.length),
    });
    log(
      `fig 1 stream round ${r + 1}: added TTFT p50 ${ttft.p50.toFixed(2)} p95 ${ttft.p95.toFixed(2)} p99 ${ttft.p99.toFixed(2)} ms; added TTLT p50 ${ttlt.p50.toFixed(2)} p99 ${ttlt.p99.toFixed(2)} ms`,
    );
  }
  socket.close();
  const stream = Object.fromEntries(Object.keys(rounds[0]).map((k) => [k, medianOf(rounds, k)]));
  stream.errors = errors;
  stream.rounds = rounds;

  // Non-streaming: POST /api/v1/ai/chat vs POST <fake>/v1/chat/completions, both with fetch.
  await setFakeProfile(fake, { ...opts.stream, chatDelayMs: opts.chatDelayMs });
  const conversation = { conversationId: null };
  const restSide = (side, tag) => (side === 'A' ? completion(ctx, fake.url, tag) : serviceTurn(ctx, service, user.token, conversation, tag));
  for (let i = 0; i < 20; i++) await restSide(ABBA[i % 4], `wr_${i}`);
  const restRounds = [];
  const restErrors = [];
  for (let r = 0; r < sizes.restRounds; r++) {
    const A = [];
    const B = [];
    for (let i = 0; i < sizes.restPerRound * 2; i++) {
      const side = ABBA[i % 4];
      const res = await restSide(side, `n${r}_${i}`);
      if (!res.ok) restErrors.push(`${side}: ${res.status} ${res.error ?? JSON.stringify(res.body).slice(0, 200)}`);
      else (side === 'A' ? A : B).push(res.latency);
    }
    const d = diffPercentiles(A, B, [50, 95, 99]);
    restRounds.push({ p50: d.p50, p95: d.p95, p99: d.p99, direct50: percentile(A, 50) });
    log(`fig 1 REST round ${r + 1}: added latency p50 ${d.p50.toFixed(2)} p95 ${d.p95.toFixed(2)} p99 ${d.p99.toFixed(2)} ms`);
  }
  const rest = Object.fromEntries(Object.keys(restRounds[0]).map((k) => [k, medianOf(restRounds, k)]));
  rest.errors = restErrors;
  ctx.results.figures.oneClient = { stream, rest, profile: { ...opts.stream, cadenceMs: opts.oneClientCadenceMs }, chatDelayMs: opts.chatDelayMs };
}

export function oneClientRows(F, add) {
  if (!F.oneClient) return;
  const s = F.oneClient.stream;
  add('1 one client, stream', 'added TTFT p50', `${f1(s.ttft50, 2)} ms`, '≤ 3 ms', check(s.ttft50, '<=', 3) + missBy(s.ttft50, 3));
  add('1 one client, stream', 'added TTFT p95', `${f1(s.ttft95, 2)} ms`, '—', '');
  add('1 one client, stream', 'added TTFT p99', `${f1(s.ttft99, 2)} ms`, '≤ 10 ms', check(s.ttft99, '<=', 10) + missBy(s.ttft99, 10));
  add('1 one client, stream', 'added time-to-last-token p50 / p95 / p99', `${f1(s.ttlt50, 2)} / ${f1(s.ttlt95, 2)} / ${f1(s.ttlt99, 2)} ms`, '—', '');
  add('1 one client, stream', 'direct TTFT p50 / TTLT p50 (baseline)', `${f1(s.directTtft50)} / ${f1(s.directTtlt50)} ms`, '—', '');
  add('1 one client, stream', 'failed or wrong streams', `${s.errors.length}`, '0', s.errors.length ? '❌' : '✅');
  const r = F.oneClient.rest;
  add('1 one client, POST /ai/chat', 'added latency p50', `${f1(r.p50, 2)} ms`, '≤ 5 ms', check(r.p50, '<=', 5) + missBy(r.p50, 5));
  add('1 one client, POST /ai/chat', 'added latency p95 / p99', `${f1(r.p95, 2)} / ${f1(r.p99, 2)} ms`, '—', '');
  add('1 one client, POST /ai/chat', 'direct latency p50 (baseline)', `${f1(r.direct50, 2)} ms`, '—', '');
}

// Figure 13: a peer gateway side by side. Portkey's open-source AI gateway (lib/peer.mjs), a
// stateless relay, and this service in front of the same fake upstream with figures 1–3's profiles,
// in one run: direct (A), Portkey (P) and the service (S) take turns A P S S P A (per request for
// one client, per burst or fixed-duration run under load), so drift hits all three alike. "Added" is
// a side's percentile minus direct's within a round; the figures are medians over rounds.
// - one client, streaming, figure 1's cadence: Portkey's SSE read by the direct side's own client
//   (the openai SDK, or fetch + the SSE parser with --direct sse) vs the service's /ai socket;
// - Portkey's hold of the first SSE event: the same with the fake's first token at once (TTFT 0);
// - one client, non-streaming: Portkey's JSON vs `POST /api/v1/ai/chat`;
// - c=20 non-streaming for a fixed time (figure 3), and 200 simultaneous streams (figure 2), with
//   the CPU of the process in the middle per request / per stream, from /proc.
import { setTimeout as sleep } from 'node:timers/promises';
import { answerText } from '../lib/answer.mjs';
import { freePort, log, stopProcess } from '../lib/children.mjs';
import { connectSocket, connectSockets, streamViaSocket } from '../lib/clients.mjs';
import { f1 } from '../lib/format.mjs';
import { completion, directStream, medianOf, msg, peerStream, runConcurrent, runForDuration, serviceTurn } from '../lib/load.mjs';
import { ensurePeerInstalled, peerPins, startPeer } from '../lib/peer.mjs';
import { setFakeProfile, startService } from '../lib/services.mjs';
import { median, percentile, sum } from '../lib/stats.mjs';

const ORDER = ['A', 'P', 'S', 'S', 'P', 'A'];
const SIDES = ['P', 'S'];
const C = 20;
const BURST = 200;
// The hold probe's answers: short, since only the first token matters there.
const HOLD_CHUNKS = 10;

// `users`: { oneClient, c20: [20], streams: [200] }, figure 13's own.
export async function figurePeer(ctx, users) {
  const { opts, fake } = ctx;
  const out = { pins: peerPins(), profile: opts.stream, oneClientCadenceMs: opts.oneClientCadenceMs, chatDelayMs: opts.chatDelayMs, direct: opts.direct };
  ctx.results.figures.peer = out;
  let peer;
  try {
    out.versions = await ensurePeerInstalled();
    peer = await startPeer(ctx, { port: await freePort(), upstreamUrl: fake.url });
  } catch (error) {
    out.error = String(error?.message ?? error);
    log(`fig 13: no peer gateway, figure not measured: ${out.error}`);
    return;
  }
  log(`fig 13: Portkey ${out.versions.gateway} on @hono/node-server ${out.versions.nodeServer}, ${peer.base} (pid ${peer.pid})`);
  let service = null;
  try {
    service = await startService(ctx, 'peer-service', { port: await freePort(), fakeUrl: fake.url });
    log(`fig 13: service ${service.base} (pid ${service.pid})`);
    // Each c=20 worker keeps one conversation per side through the warm-up and the measured runs;
    // direct's and Portkey's clients send it with each request (lib/load.mjs completion).
    const conversations = (make) => users.c20.map(make);
    const c20Conversations = { A: conversations(() => ({ history: [] })), P: conversations(() => ({ history: [] })), S: conversations(() => ({ conversationId: null })) };
    const sides = { ctx, peer, service, users, c20Conversations };
    await warmUp(sides);
    out.stream = await oneClientStream(sides);
    out.hold = await firstEventHold(sides);
    out.rest = await oneClientRest(sides);
    out.c20 = await concurrentRest(sides);
    out.burst = await burst(sides);
  } finally {
    if (service) await stopProcess(service.child);
    await stopProcess(peer.child);
  }
}

// Every side runs the same warm-up before anything is measured: non-streaming at c=20 for
// PEER_WARM_UP_SECS each, so that what follows compares gateways in their steady state (a gateway serves
// for days) rather than how soon each one's JIT settles; then each sequential probe runs its own
// warm-up calls. The service's request path is several times Portkey's code and takes longer to settle.
export const PEER_WARM_UP_SECS = 4;

async function warmUp(sides) {
  await setFakeProfile(sides.ctx.fake, { ...sides.ctx.opts.stream, chatDelayMs: sides.ctx.opts.chatDelayMs });
  for (const side of ['S', 'P', 'A']) {
    const res = await runC20(sides, side, PEER_WARM_UP_SECS, `w13_${side}`);
    if (res.errors.length) log(`fig 13 warm-up ${side}: ${res.errors.length} errors, first: ${res.errors[0]}`);
  }
}

// One side at c=20, non-streaming, for `secs`: throughput, latency and CPU per request.
function runC20({ ctx, peer, service, users, c20Conversations }, side, secs, label) {
  const { fake } = ctx;
  const pids = { A: fake.pid, P: peer.pid, S: service.pid };
  const once = {
    A: (w, tag) => completion(ctx, fake.url, tag, {}, c20Conversations.A[w]),
    P: (w, tag) => completion(ctx, peer.url, tag, peer.headers, c20Conversations.P[w]),
    S: (w, tag) => serviceTurn(ctx, service, users.c20[w].token, c20Conversations.S[w], tag),
  };
  return runForDuration({ C, secs, pid: pids[side], label, once: once[side] });
}

// One client, sequential, the three sides in ORDER: each round's samples per side, and the errors.
async function sequential(label, { rounds, perRound, warmUp = 30, run }) {
  for (let i = 0; i < warmUp; i++) await run(ORDER[i % ORDER.length], `w13${label}_${i}`);
  const out = [];
  const errors = { A: [], P: [], S: [] };
  for (let r = 0; r < rounds; r++) {
    const samples = { A: [], P: [], S: [] };
    for (let i = 0; i < perRound * 3; i++) {
      const side = ORDER[i % ORDER.length];
      const res = await run(side, `${label}${r}_${i}`);
      if (res.ok) samples[side].push(res.value);
      else errors[side].push(res.error);
    }
    out.push(samples);
  }
  return { rounds: out, errors };
}

// Per round, side minus direct at each percentile of `pick(sample)`; medians over rounds.
function added(rounds, pick, ps) {
  const perRound = rounds.map((samples) => {
    const at = (side, p) => percentile(samples[side].map(pick), p);
    const row = {};
    for (const p of ps) {
      row[`A${p}`] = at('A', p);
      for (const side of SIDES) row[`${side}${p}`] = at(side, p) - at('A', p);
    }
    return row;
  });
  return Object.fromEntries(Object.keys(perRound[0]).map((k) => [k, medianOf(perRound, k)]));
}

const logAdded = (what, r, x, p = 50) =>
  log(`fig 13 ${what} round ${r}: added p${p} Portkey ${f1(x[`P${p}`], 2)} ms, service ${f1(x[`S${p}`], 2)} ms (direct ${f1(x[`A${p}`], 2)} ms)`);

function streamRunner({ ctx, peer }, socket, chunks) {
  return async (side, tag) => {
    const res =
      side === 'A'
        ? await directStream(ctx, tag, chunks)
        : side === 'P'
          ? await peerStream(ctx, peer, tag, chunks)
          : await streamViaSocket(socket, { message: msg(tag), expected: answerText(tag, chunks) });
    return { ok: res.ok, error: res.error, value: res };
  };
}

async function oneClientStream(sides) {
  const { ctx, service, users } = sides;
  const { opts } = ctx;
  await setFakeProfile(ctx.fake, { ...opts.stream, cadenceMs: opts.oneClientCadenceMs });
  const socket = await connectSocket(service.base, users.oneClient.token);
  try {
    const { rounds, errors } = await sequential('s', {
      rounds: opts.sizes.peerRounds,
      perRound: opts.sizes.peerPerRound,
      run: streamRunner(sides, socket, opts.stream.chunks),
    });
    rounds.forEach((samples, r) =>
      logAdded(
        'stream TTFT',
        r + 1,
        added([samples], (x) => x.ttft, [50]),
      ),
    );
    return { ttft: added(rounds, (x) => x.ttft, [50, 99]), ttlt: added(rounds, (x) => x.ttlt, [50, 99]), errors };
  } finally {
    socket.close();
  }
}

// Portkey holds the first SSE event of a stream (its readStream waits 25 ms before passing the first
// one on); with the fake's first token 50 ms after its first event that hides in the wait. Here the
// first token comes at once, so a hold shows in full.
async function firstEventHold(sides) {
  const { ctx, service, users } = sides;
  const { opts } = ctx;
  await setFakeProfile(ctx.fake, { ...opts.stream, ttftMs: 0, chunks: HOLD_CHUNKS, cadenceMs: opts.oneClientCadenceMs });
  const socket = await connectSocket(service.base, users.oneClient.token);
  try {
    const { rounds, errors } = await sequential('h', { rounds: 1, perRound: opts.sizes.peerHoldPerRound, run: streamRunner(sides, socket, HOLD_CHUNKS) });
    const ttft = added(rounds, (x) => x.ttft, [50]);
    logAdded('TTFT with the first token at once', 1, ttft);
    return { ttft, errors };
  } finally {
    socket.close();
    await setFakeProfile(ctx.fake, opts.stream);
  }
}

async function oneClientRest({ ctx, peer, service, users }) {
  const { opts, fake } = ctx;
  await setFakeProfile(fake, { ...opts.stream, chatDelayMs: opts.chatDelayMs });
  const conversations = { A: { history: [] }, P: { history: [] }, S: { conversationId: null } };
  const run = async (side, tag) => {
    const res =
      side === 'A'
        ? await completion(ctx, fake.url, tag, {}, conversations.A)
        : side === 'P'
          ? await completion(ctx, peer.url, tag, peer.headers, conversations.P)
          : await serviceTurn(ctx, service, users.oneClient.token, conversations.S, tag);
    return { ok: res.ok, value: res.latency, error: `${res.status} ${res.error ?? JSON.stringify(res.body).slice(0, 200)}` };
  };
  const { rounds, errors } = await sequential('n', { rounds: opts.sizes.peerRounds, perRound: opts.sizes.peerRestPerRound, run });
  rounds.forEach((samples, r) =>
    logAdded(
      'REST latency',
      r + 1,
      added([samples], (x) => x, [50]),
    ),
  );
  return { ...added(rounds, (x) => x, [50, 99]), errors };
}

async function concurrentRest(sides) {
  const { opts, fake } = sides.ctx;
  await setFakeProfile(fake, { ...opts.stream, chatDelayMs: opts.chatDelayMs });
  const run = async (side, secs, label) => ({ side, ...(await runC20(sides, side, secs, label)) });
  await run('S', 1.5, 'w13c_s');
  await run('P', 1, 'w13c_p');
  await run('A', 1, 'w13c_a');
  const rounds = [];
  const all = [];
  for (let r = 0; r < opts.sizes.peerC20Rounds; r++) {
    const round = { A: [], P: [], S: [] };
    for (const [k, side] of ORDER.entries()) {
      const res = await run(side, opts.sizes.peerC20Secs, `c13_${r}_${k}`);
      round[side].push(res);
      all.push(res);
      log(`fig 13 c=${C} round ${r + 1} ${side}: ${res.rps.toFixed(1)} req/s, p50 ${res.p50.toFixed(1)} p99 ${res.p99.toFixed(1)} ms, ${res.errors.length} errors`);
      await sleep(300);
    }
    const row = {};
    for (const side of SIDES) {
      row[`ratio${side}`] = median(round[side].map((x) => x.rps)) / median(round.A.map((x) => x.rps));
      row[`added99${side}`] = median(round[side].map((x) => x.p99)) - median(round.A.map((x) => x.p99));
    }
    rounds.push(row);
  }
  const bySide = (side) => all.filter((x) => x.side === side);
  const res = Object.fromEntries(Object.keys(rounds[0]).map((k) => [k, medianOf(rounds, k)]));
  for (const side of ['A', ...SIDES]) {
    res[`rps${side}`] = median(bySide(side).map((x) => x.rps));
    res[`p99${side}`] = median(bySide(side).map((x) => x.p99));
    res[`cpu${side}`] = median(bySide(side).map((x) => x.cpuMsPerReq));
    res[`errors${side}`] = sum(bySide(side).map((x) => x.errors.length));
  }
  res.firstError = all.flatMap((x) => x.errors.map((e) => `${x.side}: ${e}`))[0] ?? null;
  return res;
}

async function burst({ ctx, peer, service, users }) {
  const { opts, fake } = ctx;
  await setFakeProfile(fake, opts.stream);
  const sockets = await connectSockets(
    service.base,
    users.streams.map((u) => u.token),
  );
  try {
    // Warm-up: every socket's first turn (creates its conversation), and a burst on each HTTP side.
    for (const side of ['S', 'P', 'A']) {
      const warm = await runConcurrent(ctx, side, { n: BURST, sockets, service, peer, tagPrefix: `wb13${side}` });
      if (warm.errors.length) log(`fig 13 warm-up burst ${side}: ${warm.errors.length} errors, first: ${warm.errors[0]}`);
      await sleep(500);
    }
    const rounds = [];
    const all = [];
    for (let r = 0; r < opts.sizes.peerBurstRounds; r++) {
      const round = { A: [], P: [], S: [] };
      for (const [k, side] of ORDER.entries()) {
        const run = await runConcurrent(ctx, side, { n: BURST, sockets, service, peer, tagPrefix: `b13_${r}_${k}` });
        round[side].push(run);
        all.push(run);
        log(
          `fig 13 ${BURST} streams round ${r + 1} ${side}: ${run.completed}/${BURST} ok, ${Math.round(run.chunksPerSec)} chunks/s, TTFT p50 ${f1(percentile(run.ttfts, 50))} p99 ${f1(percentile(run.ttfts, 99))} ms, CPU ${f1(run.cpuMsPerStream, 2)} ms/stream${run.errors.length ? `, first error: ${run.errors[0]}` : ''}`,
        );
        await sleep(500);
      }
      const row = {};
      const ttfts = (side) => round[side].flatMap((x) => x.ttfts);
      for (const side of SIDES) {
        row[`ratio${side}`] = median(round[side].map((x) => x.chunksPerSec)) / median(round.A.map((x) => x.chunksPerSec));
        row[`added50${side}`] = percentile(ttfts(side), 50) - percentile(ttfts('A'), 50);
        row[`added99${side}`] = percentile(ttfts(side), 99) - percentile(ttfts('A'), 99);
      }
      rounds.push(row);
    }
    const bySide = (side) => all.filter((x) => x.side === side);
    const res = Object.fromEntries(Object.keys(rounds[0]).map((k) => [k, medianOf(rounds, k)]));
    for (const side of ['A', ...SIDES]) {
      res[`chunksPerSec${side}`] = median(bySide(side).map((x) => x.chunksPerSec));
      res[`ttft50${side}`] = median(bySide(side).map((x) => percentile(x.ttfts, 50)));
      res[`cpu${side}`] = median(bySide(side).map((x) => x.cpuMsPerStream));
      res[`completedMin${side}`] = Math.min(...bySide(side).map((x) => x.completed));
      res[`errors${side}`] = sum(bySide(side).map((x) => x.errors.length));
      res[`peakRss${side}`] = Math.max(...bySide(side).map((x) => x.peakRssMb));
    }
    res.fakeCpuPerStream = median(all.map((x) => x.fakeCpuMsPerStream));
    res.firstError = all.flatMap((x) => x.errors.map((e) => `${x.side}: ${e}`))[0] ?? null;
    return res;
  } finally {
    for (const s of sockets) s.close();
  }
}

// The done-when checks: the service against Portkey, each [label, ok, what was compared].
function doneWhen(M) {
  const { rest, stream, c20, burst: B } = M;
  return [
    ["service's non-streaming added p50 ≤ Portkey's + 1 ms", rest.S50 <= rest.P50 + 1, `${f1(rest.S50, 2)} vs ${f1(rest.P50, 2)} ms`],
    ["service's streaming added TTFT p50 ahead of Portkey's", stream.ttft.S50 < stream.ttft.P50, `${f1(stream.ttft.S50, 2)} vs ${f1(stream.ttft.P50, 2)} ms`],
    [`service's c=${C} throughput ratio ≥ Portkey's`, c20.ratioS >= c20.ratioP, `${f1(c20.ratioS, 3)}x vs ${f1(c20.ratioP, 3)}x`],
    [`service's ${BURST}-stream chunks/s ratio ≥ Portkey's`, B.ratioS >= B.ratioP, `${f1(B.ratioS * 100)}% vs ${f1(B.ratioP * 100)}%`],
    [`service's ${BURST}-stream added TTFT p99 ≤ Portkey's`, B.added99S <= B.added99P, `${f1(B.added99S)} vs ${f1(B.added99P)} ms`],
    [`service's CPU per request at c=${C} ≤ 1.2 × Portkey's`, c20.cpuS <= 1.2 * c20.cpuP, `${f1(c20.cpuS, 2)} vs ${f1(c20.cpuP, 2)} ms`],
    ["service's CPU per stream ≤ 1.2 × Portkey's", B.cpuS <= 1.2 * B.cpuP, `${f1(B.cpuS, 2)} vs ${f1(B.cpuP, 2)} ms`],
  ];
}

const mark = (ok) => (ok ? '✅' : '❌');

// The owner's table: one row per comparison, Portkey's column and the service's.
function ownerRows(M) {
  const { rest, stream, c20, burst: B, profile } = M;
  const both = (fn) => SIDES.map(fn);
  return [
    ['one client, non-streaming, added latency p50 / p99', ...both((s) => `${f1(rest[`${s}50`], 2)} / ${f1(rest[`${s}99`], 2)} ms`)],
    ['one client, streaming, added time to first token p50', ...both((s) => `${f1(stream.ttft[`${s}50`], 2)} ms`)],
    [`non-streaming at c=${C}, throughput vs direct; p99`, ...both((s) => `${f1(c20[`ratio${s}`], 3)}x; ${f1(c20[`p99${s}`])} ms`)],
    [`${BURST} simultaneous streams, chunks/s vs direct; added TTFT p99`, ...both((s) => `${f1(B[`ratio${s}`] * 100)}%; ${f1(B[`added99${s}`])} ms`)],
    [`CPU per request at c=${C} / per ${profile.chunks}-chunk stream`, ...both((s) => `${f1(c20[`cpu${s}`], 2)} / ${f1(B[`cpu${s}`], 2)} ms`)],
  ];
}

export function peerRows(F, add) {
  const M = F.peer;
  if (!M) return;
  const name = '13 peer: Portkey · this service';
  if (M.error) {
    add(name, `Portkey ${M.pins.gateway} installed and running`, `failed: ${M.error.replace(/\s+/g, ' ').slice(0, 300)}`, 'runs', '❌');
    return;
  }
  const checks = doneWhen(M);
  const targets = [
    ['service p50 ≤ Portkey + 1 ms', [checks[0]]],
    ['service ahead', [checks[1]]],
    ['service ratio ≥ Portkey', [checks[2]]],
    ['service ratio ≥, p99 ≤ Portkey', [checks[3], checks[4]]],
    ['service ≤ 1.2 × Portkey', [checks[5], checks[6]]],
  ];
  ownerRows(M).forEach(([metric, p, s], i) => {
    const [target, cs] = targets[i];
    add(name, metric, `Portkey ${p} · service ${s}`, target, mark(cs.every(([, ok]) => ok)));
  });
  const H = M.hold.ttft;
  add(name, 'added TTFT p50 with the first token at once (first-event hold)', `Portkey ${f1(H.P50, 2)} ms · service ${f1(H.S50, 2)} ms`, '—', '');
  const errs = (side) => M.rest.errors[side].length + M.stream.errors[side].length + M.hold.errors[side].length + M.c20[`errors${side}`] + M.burst[`errors${side}`];
  const incomplete = (side) => BURST - M.burst[`completedMin${side}`];
  add(
    name,
    'failed or wrong answers: Portkey / service / direct',
    `${errs('P')} / ${errs('S')} / ${errs('A')}`,
    '0',
    errs('P') + errs('S') + errs('A') === 0 && incomplete('P') + incomplete('S') === 0 ? '✅' : '❌',
  );
}

export function peerDetails(F) {
  const M = F.peer;
  if (!M) return '';
  if (M.error) return `### Peer gateway: Portkey, side by side (figure 13)\n\nNot measured: ${M.error}\n`;
  const { rest, stream, hold, c20, burst: B, versions } = M;
  const firstErrors = [
    ...['A', 'P', 'S'].flatMap((side) => [...rest.errors[side], ...stream.errors[side], ...hold.errors[side]].slice(0, 1).map((e) => `${side}: ${e}`)),
    c20.firstError,
    B.firstError,
  ].filter(Boolean);
  return `### Peer gateway: Portkey, side by side (figure 13)

Portkey's open-source gateway \`@portkey-ai/gateway\` ${versions.gateway} (on \`@hono/node-server\` ${versions.nodeServer}) and this service, in front of the
same fake upstream, each against the same client calling the fake directly, in one run (A P S S P A). Added = side − direct.

| figure | Portkey | this service |
|---|---|---|
${ownerRows(M)
  .map((row) => `| ${row.join(' | ')} |`)
  .join('\n')}

Done when:

${doneWhen(M)
  .map(([label, ok, values]) => `- ${mark(ok)} ${label} (${values})`)
  .join('\n')}

| also measured | direct | Portkey | this service |
|---|---|---|---|
| one client, non-streaming: latency p50 (direct) / added | ${f1(rest.A50, 2)} ms | ${f1(rest.P50, 2)} ms | ${f1(rest.S50, 2)} ms |
| one client, streaming: TTFT p50 (direct) / added p50 / p99 | ${f1(stream.ttft.A50, 2)} ms | ${f1(stream.ttft.P50, 2)} / ${f1(stream.ttft.P99, 2)} ms | ${f1(stream.ttft.S50, 2)} / ${f1(stream.ttft.S99, 2)} ms |
| one client, streaming: time to last token p50 (direct) / added p50 / p99 | ${f1(stream.ttlt.A50, 2)} ms | ${f1(stream.ttlt.P50, 2)} / ${f1(stream.ttlt.P99, 2)} ms | ${f1(stream.ttlt.S50, 2)} / ${f1(stream.ttlt.S99, 2)} ms |
| first token at once (fake TTFT 0, ${HOLD_CHUNKS} chunks): TTFT p50 (direct) / added p50 | ${f1(hold.ttft.A50, 2)} ms | ${f1(hold.ttft.P50, 2)} ms | ${f1(hold.ttft.S50, 2)} ms |
| c=${C}: requests/s; p99; CPU ms per request (direct: the fake's) | ${f1(c20.rpsA)}; ${f1(c20.p99A)} ms; ${f1(c20.cpuA, 2)} | ${f1(c20.rpsP)}; ${f1(c20.p99P)} ms; ${f1(c20.cpuP, 2)} | ${f1(c20.rpsS)}; ${f1(c20.p99S)} ms; ${f1(c20.cpuS, 2)} |
| ${BURST} streams: chunks/s; TTFT p50; added TTFT p50 | ${Math.round(B.chunksPerSecA)}; ${f1(B.ttft50A)} ms; — | ${Math.round(B.chunksPerSecP)}; ${f1(B.ttft50P)} ms; ${f1(B.added50P)} ms | ${Math.round(B.chunksPerSecS)}; ${f1(B.ttft50S)} ms; ${f1(B.added50S)} ms |
| ${BURST} streams: CPU ms per stream (direct: the fake's); peak RSS MB | ${f1(B.cpuA, 2)}; — | ${f1(B.cpuP, 2)}; ${f1(B.peakRssP)} | ${f1(B.cpuS, 2)}; ${f1(B.peakRssS)} |
| ${BURST} streams: fewest completed with exact text | — | ${B.completedMinP}/${BURST} | ${B.completedMinS}/${BURST} |

Portkey holds the first SSE event of each stream for 25 ms before passing it on (\`readStream\` in its
\`src/handlers/streamHandler.ts\`). The fake sends an empty role chunk at once and the first token ${M.profile.ttftMs} ms later, so in the
rows above the hold mostly overlaps the upstream's own wait; with the first token at once it adds
${f1(hold.ttft.P50 - stream.ttft.P50, 1)} ms more to Portkey's TTFT p50 than at a ${M.profile.ttftMs} ms TTFT.
${firstErrors.length ? `\nFirst errors seen: ${firstErrors.map((e) => `\`${String(e).slice(0, 300)}\``).join('; ')}\n` : ''}`;
}

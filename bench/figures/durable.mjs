// Figure 11: durable streams. What `resumable: true` costs (its chunks go to a Redis Stream in
// batches) and what resuming takes:
// - 200 simultaneous resumable streams, direct (A) vs through the service (B), ABBA, figure 2's
//   profile; a burst of plain (not resumable) streams per round for reference. Target: ≥ 85% of
//   direct chunks/s.
// - one client, sequential, figure 1's profile: plain (A) vs resumable (B) turns on one socket,
//   ABBA. Target: added TTFT p50 ≤ 1 ms.
// - replay: a resumable stream of 1,000 chunks run to its end, then `chat:resume { lastSeq: 0 }` on
//   a second socket, timed from the emit to the terminal event, every chunk checked. Target: p50
//   ≤ 50 ms.
// - Redis commands per stream, counted by name on the wire (lib/redis-counter-proxy.mjs) between a
//   second instance and Redis, for 100 and 1,000 chunks at two cadences, resumable and plain.
//   Target: XADDs per stream within 1.5 × (the stream's duration / the window + chunks / the batch
//   cap) + 1: they grow with chunks / batch size, not with chunks.
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { answerText } from '../lib/answer.mjs';
import { freePort, log, stopProcess } from '../lib/children.mjs';
import { connectSocket, connectSockets, streamViaSocket } from '../lib/clients.mjs';
import { check, f1, missBy } from '../lib/format.mjs';
import { ABBA, abbaGroups, medianOf, msg, runConcurrent } from '../lib/load.mjs';
import { startRedisCounterProxy } from '../lib/redis-counter-proxy.mjs';
import { setFakeProfile, startService } from '../lib/services.mjs';
import { median, percentile, sum } from '../lib/stats.mjs';

const N = 200;
const REPLAY_CHUNKS = 1000;
// The service's batching (src/ai/stream/chat-stream.constants.ts).
const BATCH_WINDOW_MS = 50;
const BATCH_MAX = 64;
const COUNT_STREAMS = 10;
const COUNT_CASES = [
  { chunks: 100, cadenceMs: 20 },
  { chunks: 1000, cadenceMs: 20 },
  { chunks: 100, cadenceMs: 2 },
  { chunks: 1000, cadenceMs: 2 },
];

export async function figureDurable(ctx, users) {
  const { opts, fake } = ctx;
  const out = { profile: opts.stream };
  ctx.results.figures.durable = out;

  // Throughput, TTFT and replay on an instance talking to Redis directly.
  const service = await startService(ctx, 'durable', { port: await freePort(), fakeUrl: fake.url, env: { REDIS_PREFIX: 'ai-bench-durable' } });
  log(`fig 11 service ${service.base} (pid ${service.pid})`);
  try {
    out.concurrent = await concurrent(ctx, service, users.slice(0, N));
    out.oneClient = await oneClient(ctx, service, users[N]);
    out.replay = await replay(ctx, service, users[N + 1]);
  } finally {
    await stopProcess(service.child);
  }

  // Commands per stream on a second instance behind the counting proxy.
  const proxy = await startRedisCounterProxy({ targetPort: Number(new URL(opts.redisBase).port || 6379) });
  const counted = await startService(ctx, 'durable-counted', {
    port: await freePort(),
    fakeUrl: fake.url,
    env: { REDIS_PREFIX: 'ai-bench-durable-counted', REDIS_URL: `redis://127.0.0.1:${proxy.port}/${ctx.redisIndex}` },
  });
  try {
    out.commands = await commandCounts(ctx, counted, proxy, users.slice(N + 2, N + 2 + COUNT_STREAMS));
  } finally {
    await stopProcess(counted.child);
    await proxy.close();
  }
}

async function concurrent(ctx, service, users) {
  const { opts, fake } = ctx;
  await setFakeProfile(fake, opts.stream);
  const sockets = await connectSockets(
    service.base,
    users.map((u) => u.token),
  );
  try {
    // Warm-up: every socket's first turn creates its conversation; not measured.
    const warm = await runConcurrent(ctx, 'B', { n: N, sockets, service, tagPrefix: 'dw', resumable: true });
    log(`fig 11 warm-up: ${warm.completed}/${N}`);
    await runConcurrent(ctx, 'A', { n: N, sockets, service, tagPrefix: 'dwa' });
    await sleep(500);
    const rounds = [];
    const runsB = [];
    const runsPlain = [];
    for (let r = 0; r < opts.sizes.concRounds; r++) {
      const round = { A: [], B: [] };
      for (const [k, side] of ABBA.entries()) {
        const run = await runConcurrent(ctx, side, { n: N, sockets, service, tagPrefix: `d${r}_${k}`, resumable: side === 'B' });
        round[side].push(run);
        if (side === 'B') runsB.push(run);
        log(`fig 11 n=${N} round ${r + 1} ${side}: ${run.completed}/${N} ok, ${Math.round(run.chunksPerSec)} chunks/s, CPU ${run.cpuMsPerStream.toFixed(2)} ms/stream`);
        await sleep(500);
      }
      const plain = await runConcurrent(ctx, 'B', { n: N, sockets, service, tagPrefix: `dp${r}` });
      runsPlain.push(plain);
      log(`fig 11 n=${N} round ${r + 1} plain: ${plain.completed}/${N} ok, ${Math.round(plain.chunksPerSec)} chunks/s, CPU ${plain.cpuMsPerStream.toFixed(2)} ms/stream`);
      await sleep(500);
      rounds.push({
        chunksRatio: median(round.B.map((x) => x.chunksPerSec)) / median(round.A.map((x) => x.chunksPerSec)),
        plainRatio: plain.chunksPerSec / median(round.A.map((x) => x.chunksPerSec)),
        chunksPerSecA: median(round.A.map((x) => x.chunksPerSec)),
      });
    }
    return {
      completedMin: Math.min(...runsB.map((x) => x.completed)),
      errors: sum(runsB.map((x) => x.errors.length)),
      firstError: runsB.flatMap((x) => x.errors)[0] ?? null,
      chunksRatio: medianOf(rounds, 'chunksRatio'),
      plainRatio: medianOf(rounds, 'plainRatio'),
      chunksPerSecA: medianOf(rounds, 'chunksPerSecA'),
      chunksPerSecB: median(runsB.map((x) => x.chunksPerSec)),
      chunksPerSecPlain: median(runsPlain.map((x) => x.chunksPerSec)),
      cpuMsPerStream: median(runsB.map((x) => x.cpuMsPerStream)),
      cpuMsPerStreamPlain: median(runsPlain.map((x) => x.cpuMsPerStream)),
    };
  } finally {
    for (const s of sockets) s.close();
  }
}

async function oneClient(ctx, service, user) {
  const { opts, fake } = ctx;
  const chunks = opts.stream.chunks;
  await setFakeProfile(fake, { ...opts.stream, cadenceMs: opts.oneClientCadenceMs });
  const socket = await connectSocket(service.base, user.token);
  try {
    const [series] = await abbaGroups({
      figure: 11,
      rounds: opts.sizes.oneRounds,
      perRound: opts.sizes.onePerRound,
      // The label goes into each prompt's tag: no spaces.
      label: 'resumable',
      run: async (side, tag) => {
        const res = await streamViaSocket(socket, { message: msg(tag), expected: answerText(tag, chunks), resumable: side === 'B' });
        return { ok: res.ok, error: res.error, value: res.ttft };
      },
    });
    return series;
  } finally {
    socket.close();
  }
}

async function replay(ctx, service, user) {
  const { opts, fake } = ctx;
  // Paced (1 ms) so that the chunks reach the service one by one and the log holds ~1,000 events:
  // sent all at once, they arrive together and leave as a few events (per-read batches).
  await setFakeProfile(fake, { ...opts.stream, chunks: REPLAY_CHUNKS, cadenceMs: 1 });
  const writer = await connectSocket(service.base, user.token);
  const reader = await connectSocket(service.base, user.token);
  const times = [];
  const events = [];
  const errors = [];
  try {
    const runs = opts.quick ? 10 : 30;
    for (let i = 0; i < runs + 3; i++) {
      const tag = `dr${i}`;
      const expected = answerText(tag, REPLAY_CHUNKS);
      let streamId = null;
      writer.once('chat:user-message', (data) => (streamId = data.streamId));
      const ran = await streamViaSocket(writer, { message: msg(tag), expected, resumable: true });
      if (!ran.ok || !streamId) {
        errors.push(`stream: ${ran.error}`);
        continue;
      }
      const result = await new Promise((resolve) => {
        let text = '';
        let count = 0;
        let lastSeq = 0;
        let inOrder = true;
        const onMessage = (data) => {
          if (data.streamId !== streamId) return;
          count++;
          inOrder &&= data.seq === lastSeq + 1;
          lastSeq = data.seq;
          text += data.content;
        };
        const done = (event) => (data) => {
          if (data?.streamId !== undefined && data.streamId !== streamId) return;
          const ms = performance.now() - t0;
          reader.off('chat:message', onMessage);
          for (const [name, fn] of handlers) reader.off(name, fn);
          clearTimeout(timer);
          resolve({
            ms,
            count,
            ok: event === 'chat:end' && count === ran.events && inOrder && text === expected,
            detail: `${event}, ${count} of ${ran.events} events, in order ${inOrder}`,
          });
        };
        const handlers = ['chat:end', 'chat:stopped', 'chat:error'].map((name) => [name, done(name)]);
        reader.on('chat:message', onMessage);
        for (const [name, fn] of handlers) reader.on(name, fn);
        const timer = setTimeout(() => done('timeout')({}), 10_000);
        const t0 = performance.now();
        reader.emit('chat:resume', { streamId, lastSeq: 0 });
      });
      if (!result.ok) errors.push(`replay: ${result.detail}`);
      else if (i >= 3) (times.push(result.ms), events.push(result.count));
    }
  } finally {
    writer.close();
    reader.close();
  }
  log(
    `fig 11 replay of ${REPLAY_CHUNKS} chunks (${median(events)} events): p50 ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms, ${errors.length} errors`,
  );
  return { n: times.length, p50: percentile(times, 50), p95: percentile(times, 95), events: median(events), errors };
}

async function commandCounts(ctx, service, proxy, users) {
  const { opts, fake } = ctx;
  const sockets = await connectSockets(
    service.base,
    users.map((u) => u.token),
  );
  const cases = [];
  try {
    await setFakeProfile(fake, { ...opts.stream, cadenceMs: 0 });
    await runConcurrent(ctx, 'B', { n: COUNT_STREAMS, sockets, service, tagPrefix: 'dcw', resumable: true });
    for (const { chunks, cadenceMs } of COUNT_CASES) {
      await setFakeProfile(fake, { ...opts.stream, chunks, cadenceMs });
      const row = { chunks, cadenceMs };
      for (const resumable of [true, false]) {
        await sleep(300);
        proxy.reset();
        const run = await runCounted(ctx, sockets, service, `dc${chunks}_${cadenceMs}_${resumable ? 'r' : 'p'}`, chunks, resumable);
        // Let the last appends and expiries land.
        await sleep(300);
        const counts = proxy.snapshot();
        const perStream = (name) => (counts[name] ?? 0) / COUNT_STREAMS;
        const total = sum(Object.values(counts)) / COUNT_STREAMS;
        row[resumable ? 'resumable' : 'plain'] = { ok: run.completed, total, xadd: perStream('XADD'), publish: perStream('PUBLISH'), counts };
      }
      // One batch per window while the stream lasts, one more each time a stream fills a batch.
      const expectedBatches = Math.ceil((chunks * cadenceMs) / BATCH_WINDOW_MS) + Math.ceil(chunks / BATCH_MAX);
      row.expectedBatches = expectedBatches;
      row.chunksPerXadd = chunks / row.resumable.xadd;
      row.ok = row.resumable.ok === COUNT_STREAMS && row.plain.ok === COUNT_STREAMS && row.resumable.xadd <= 1.5 * expectedBatches + 1;
      log(
        `fig 11 Redis commands per stream, ${chunks} chunks every ${cadenceMs} ms: resumable ${f1(row.resumable.total)} (XADD ${f1(row.resumable.xadd)}, ${f1(row.chunksPerXadd)} chunks each), plain ${f1(row.plain.total)}; ${JSON.stringify(row.resumable.counts)}`,
      );
      cases.push(row);
    }
  } finally {
    for (const s of sockets) s.close();
  }
  return cases;
}

async function runCounted(ctx, sockets, service, tagPrefix, chunks, resumable) {
  const res = await Promise.all(
    sockets.map((socket, i) =>
      streamViaSocket(socket, { message: msg(`${tagPrefix}_${i}`), expected: answerText(`${tagPrefix}_${i}`, chunks), resumable, timeoutMs: 120_000 }),
    ),
  );
  return { completed: res.filter((r) => r.ok).length };
}

export function durableRows(F, add) {
  const D = F.durable;
  if (!D) return;
  const name = '11 durable streams';
  if (D.concurrent) {
    const C = D.concurrent;
    add(
      name,
      `${N} simultaneous resumable streams: chunks/s via service vs direct (plain for reference)`,
      `${Math.round(C.chunksPerSecB)} vs ${Math.round(C.chunksPerSecA)} (${f1(C.chunksRatio * 100)}%; plain ${f1(C.plainRatio * 100)}%), ${C.completedMin}/${N} exact, errors ${C.errors}`,
      '≥ 85%',
      C.chunksRatio >= 0.85 && C.completedMin === N && C.errors === 0
        ? '✅'
        : `❌${C.chunksRatio < 0.85 ? ` (short by ${f1((0.85 - C.chunksRatio) * 100)} points)` : ''}`,
    );
    add(name, 'service CPU per stream, resumable / plain', `${f1(C.cpuMsPerStream, 2)} / ${f1(C.cpuMsPerStreamPlain, 2)} ms`, '—', '');
  }
  if (D.oneClient) {
    const O = D.oneClient;
    add(
      name,
      'one client: TTFT resumable − plain, p50 / p99',
      `${f1(O.p50, 2)} / ${f1(O.p99, 2)} ms`,
      'p50 ≤ 1 ms',
      check(O.p50, '<=', 1) + missBy(O.p50, 1) + (O.errors.length ? ` (${O.errors.length} errors)` : ''),
    );
  }
  if (D.replay) {
    const R = D.replay;
    add(
      name,
      `replay of ${REPLAY_CHUNKS} missed chunks (chat:resume → terminal event), p50 / p95`,
      `${f1(R.p50, 2)} / ${f1(R.p95, 2)} ms (${R.events} events)`,
      'p50 ≤ 50 ms',
      check(R.p50, '<=', 50) + missBy(R.p50, 50) + (R.errors.length ? ` (${R.errors.length} errors)` : ''),
    );
  }
  for (const row of D.commands ?? []) {
    add(
      name,
      `Redis commands per stream, ${row.chunks} chunks every ${row.cadenceMs} ms: resumable (XADD) / plain`,
      `${f1(row.resumable.total)} (${f1(row.resumable.xadd)}, ${f1(row.chunksPerXadd)} chunks each) / ${f1(row.plain.total)}`,
      `XADD ≤ ${f1(1.5 * row.expectedBatches + 1)}`,
      row.ok ? '✅' : '❌',
    );
  }
}

export function durableDetails(F) {
  const D = F.durable;
  if (!D?.commands) return '';
  const names = [...new Set(D.commands.flatMap((row) => [...Object.keys(row.resumable.counts), ...Object.keys(row.plain.counts)]))].sort();
  return `### Durable streams: Redis commands per stream, by name (${COUNT_STREAMS} simultaneous streams per case)

A resumable stream's chunks reach Redis in batches (those within ${BATCH_WINDOW_MS} ms, at most ${BATCH_MAX}): one XADD and one PUBLISH per batch; registering
and ending a stream are one pipeline each; the rest (rate limit, Socket.IO adapter) is the same for plain streams.

| chunks | cadence ms | kind | ${names.join(' | ')} | total |
|---|---|---|${names.map(() => '---').join('|')}|---|
${D.commands
  .flatMap((row) =>
    ['resumable', 'plain'].map(
      (kind) =>
        `| ${row.chunks} | ${row.cadenceMs} | ${kind} | ${names.map((n) => f1((row[kind].counts[n] ?? 0) / COUNT_STREAMS)).join(' | ')} | ${f1(row[kind].total)} |`,
    ),
  )
  .join('\n')}
${D.replay?.errors.length ? `\nReplay errors: ${D.replay.errors.slice(0, 3).join('; ')}\n` : ''}${D.concurrent?.firstError ? `\nFirst stream error: \`${String(D.concurrent.firstError).slice(0, 300)}\`\n` : ''}`;
}

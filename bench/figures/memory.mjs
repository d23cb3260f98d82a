// Figure 6: resident memory of fresh service instances — at rest, with idle sockets, and after each
// round of a sustained mixed load, with and without a cap on glibc's malloc arenas.
//
// How a full GC is forced changes what a reading means:
// - idle, no inspector: the process exactly as production runs it (--inspect-port only names a
//   port; the inspector is not started), read after IDLE_SECS of idleness, by which time V8's memory
//   reducer has run its own memory-reducing GCs (~10-20 s after boot here). What `ps` shows an operator.
// - after a full GC: the inspector is then started (SIGUSR1) and HeapProfiler.collectGarbage forces
//   the same kind of GC (it also gives back the young generation). Attaching costs the process up to
//   ~4 MB (the inspector thread's malloc arena), so this reading is never the lower one by much.
// `--expose-gc` + gc() is not used: that GC keeps the young generation's pages (~30 MB here), so it
// reads well above what an idle production process holds. No heap snapshot is taken either: writing
// one grows RSS for the rest of the process's life.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { answerText } from '../lib/answer.mjs';
import { connectSocket, connectSockets, postJson, streamViaSocket } from '../lib/clients.mjs';
import { freePort, log, stopProcess } from '../lib/children.mjs';
import { connectInspector } from '../lib/inspector.mjs';
import { msg } from '../lib/load.mjs';
import { cpuMs, peakRssMb, resetPeakRss, rssMb } from '../lib/proc.mjs';
import { check, f1, missBy } from '../lib/format.mjs';
import { setFakeProfile, startService } from '../lib/services.mjs';
import { smapsBreakdownMb } from '../lib/smaps.mjs';
import { median, percentile, sum } from '../lib/stats.mjs';

const IDLE_SECS = 30;

// Median of 5 VmRSS samples, 200 ms apart, after 300 ms for the GC's unmapping to show.
async function sampleRss(pid) {
  await sleep(300);
  const values = [];
  for (let i = 0; i < 5; i++) {
    values.push(rssMb(pid));
    await sleep(200);
  }
  return median(values);
}

export async function figureIdle(ctx, users) {
  const { sizes } = ctx.opts;
  const inspectPort = await freePort();
  const service = await startService(ctx, 'service-idle', { port: await freePort(), fakeUrl: ctx.fake.url, nodeArgs: [`--inspect-port=127.0.0.1:${inspectPort}`] });
  let inspector;
  try {
    const healthy = performance.now();
    await sleep(2000);
    const atRestNoGc = await sampleRss(service.pid);
    await sleep(IDLE_SECS * 1000 - (performance.now() - healthy));
    const atRestIdle = await sampleRss(service.pid);
    process.kill(service.pid, 'SIGUSR1');
    inspector = await connectInspector(inspectPort);
    const fullGc = async () => {
      await inspector.collectGarbage();
      return sampleRss(service.pid);
    };
    const atRest = await fullGc();
    log(
      `fig 6: RSS at rest ${atRestNoGc.toFixed(1)} MB 2 s after boot, ${atRestIdle.toFixed(1)} MB idle ${IDLE_SECS} s (no inspector), ${atRest.toFixed(1)} MB after a full GC; connecting ${sizes.idleSockets} sockets`,
    );
    const tc = performance.now();
    const sockets = await connectSockets(
      service.base,
      users.slice(0, sizes.idleSockets).map((u) => u.token),
    );
    const connectSecs = (performance.now() - tc) / 1000;
    await sleep(3000);
    const withSocketsNoGc = await sampleRss(service.pid);
    const withSockets = await fullGc();
    log(
      `fig 6: RSS with ${sockets.length} idle sockets ${withSocketsNoGc.toFixed(1)} MB, after a full GC ${withSockets.toFixed(1)} MB (+${(withSockets - atRest).toFixed(1)}), connected in ${connectSecs.toFixed(1)} s`,
    );
    ctx.results.figures.idle = {
      atRest,
      atRestIdle,
      atRestNoGc,
      idleSecs: IDLE_SECS,
      withSockets,
      withSocketsNoGc,
      added: withSockets - atRest,
      sockets: sockets.length,
      connectSecs,
    };
    for (const s of sockets) s.close();
  } finally {
    inspector?.close();
    await stopProcess(service.child);
  }
}

// ---------------------------------------------------------------------------------------------
// Sustained load
// ---------------------------------------------------------------------------------------------

// The fake's profile during the load: ~1 s streams, short REST and job completions.
const LOAD_PROFILE = { ttftMs: 20, chunks: 40, cadenceMs: 20, chatDelayMs: 20 };
// A stop or disconnect comes after this many chunks, ~0.7 s before the answer would end.
const CUT_AFTER_CHUNKS = 3;
const EMBEDDING_DIMENSIONS = 1536;
// Pauses between the operations of a REST, list or job worker, so that they spread over the round
// alongside the streams instead of finishing in its first seconds.
const GAP_MS = { rest: 150, list: 30, job: 500, poll: 50 };

// Read in the service through the inspector: V8 heap, open handles and active resources by kind.
const READ_IN_SERVICE = `(() => {
  const m = process.memoryUsage();
  const resources = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  let v8 = null;
  try { v8 = process.mainModule.require('v8').getHeapStatistics(); } catch {}
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
    heapPhysical: v8 ? v8.total_physical_size : null, handles: process._getActiveHandles().length, resources };
})()`;

const MB = 1048576;

async function readMemory(instance) {
  const { pid } = instance.service;
  if (!instance.inspectorStarted) {
    process.kill(pid, 'SIGUSR1');
    instance.inspectorStarted = true;
  }
  const inspector = await connectInspector(instance.inspectPort);
  try {
    await inspector.collectGarbage();
    const inside = await inspector.evaluate(READ_IN_SERVICE);
    const rss = await sampleRss(pid);
    const smaps = smapsBreakdownMb(pid);
    return {
      rss,
      heapUsed: inside.heapUsed / MB,
      heapTotal: inside.heapTotal / MB,
      heapPhysical: inside.heapPhysical === null ? NaN : inside.heapPhysical / MB,
      external: inside.external / MB,
      handles: inside.handles,
      resources: sum(Object.values(inside.resources)),
      resourcesByKind: inside.resources,
      fileBacked: smaps.fileBacked,
      mainArena: smaps.mainArena,
      threadArenas: smaps.threadArenas,
      threadArenaCount: smaps.arenas.length,
      otherAnon: smaps.otherAnon,
    };
  } finally {
    inspector.close();
  }
}

// One round: a fixed amount of mixed work against one instance, all kinds at once.
async function loadRound(ctx, instance, round, users) {
  const S = ctx.opts.sizes.sustained;
  const { base, pid } = instance.service;
  const auth = (user) => ({ authorization: `Bearer ${user.token}` });
  const tag = (kind, w, i) => `m${instance.key}${round}${kind}${w}_${i}`;
  const out = {
    streamsEnded: 0,
    streamsStopped: 0,
    stopsTooLate: 0,
    streamsDropped: 0,
    rest: 0,
    lists: 0,
    completionJobs: 0,
    embeddingJobs: 0,
    errors: [],
    ttfts: [],
    restLatencies: [],
  };
  const fail = (what, detail) => out.errors.push(`${what}: ${String(detail).slice(0, 300)}`);

  // Sockets: each worker connects, streams, and closes; its second stream is stopped with
  // chat:stop, and every third worker drops its socket in the middle of its last stream.
  const streamWorker = async (user, w) => {
    let socket;
    try {
      socket = await connectSocket(base, user.token);
    } catch (error) {
      return fail('socket connect', error.message);
    }
    for (let i = 0; i < S.streamsPerWorker; i++) {
      const stop = i === 1;
      const drop = i === S.streamsPerWorker - 1 && w % 3 === 0;
      const t = tag('s', w, i);
      const cut = { stopAfterChunks: stop ? CUT_AFTER_CHUNKS : 0, disconnectAfterChunks: drop ? CUT_AFTER_CHUNKS : 0 };
      const r = await streamViaSocket(socket, { message: msg(t), expected: answerText(t, LOAD_PROFILE.chunks), timeoutMs: 30_000, ...cut });
      // A stop that reaches the service after the upstream's last chunk finds nothing to stop: the
      // answer ends normally. Not an error, but the stop path did not run (an overloaded machine).
      if (stop && r.endEvent === 'chat:end' && r.fullText) (out.stopsTooLate++, out.streamsEnded++);
      else if (!r.ok) fail(stop ? 'stream stopped' : drop ? 'stream dropped' : 'stream', r.error);
      else if (stop) out.streamsStopped++;
      else if (drop) out.streamsDropped++;
      else (out.streamsEnded++, out.ttfts.push(r.ttft));
    }
    socket.close();
  };

  // REST chat: each worker continues one conversation of its own.
  const restWorker = async (user, w) => {
    let conversationId = null;
    for (let i = 0; i < S.restPerWorker; i++) {
      const t = tag('r', w, i);
      const res = await postJson(`${base}/api/v1/ai/chat`, { message: msg(t), conversationId }, auth(user));
      if (res.ok && res.body?.content === answerText(t, LOAD_PROFILE.chunks)) {
        conversationId = res.body.conversationId;
        out.rest++;
        out.restLatencies.push(res.latency);
      } else fail('POST /ai/chat', `${res.status} ${res.error ?? JSON.stringify(res.body)}`);
      await sleep(GAP_MS.rest);
    }
  };

  // Conversation lists: pages 1-50 of the user with 1,000 conversations.
  const listWorker = async (user, w) => {
    for (let i = 0; i < S.listsPerWorker; i++) {
      const page = 1 + ((w * S.listsPerWorker + i) % 50);
      try {
        const res = await fetch(`${base}/api/v1/ai/conversations?page=${page}&limit=20`, { headers: auth(user) });
        const body = await res.json();
        if (res.ok && body?.data?.length === 20) out.lists++;
        else fail('GET /ai/conversations', `${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      } catch (error) {
        fail('GET /ai/conversations', error.message);
      }
      await sleep(GAP_MS.list);
    }
  };

  // Jobs: completions and embeddings alternately, each polled until it has finished.
  const jobWorker = async (user, w) => {
    for (let i = 0; i < S.jobsPerWorker; i++) {
      const isEmbedding = (w + i) % 2 === 1;
      const t = tag('j', w, i);
      const queued = isEmbedding
        ? await postJson(`${base}/api/v1/ai/jobs/embeddings`, { text: msg(t) }, auth(user))
        : await postJson(`${base}/api/v1/ai/jobs/completion`, { message: msg(t) }, auth(user));
      if (queued.status !== 202 || !queued.body?.jobId) {
        fail('queue a job', `${queued.status} ${queued.error ?? JSON.stringify(queued.body)}`);
        continue;
      }
      const deadline = performance.now() + 30_000;
      for (;;) {
        await sleep(GAP_MS.poll);
        let job;
        try {
          const res = await fetch(`${base}/api/v1/ai/jobs/${queued.body.jobId}`, { headers: auth(user) });
          job = await res.json();
          if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(job).slice(0, 200)}`);
        } catch (error) {
          fail('GET /ai/jobs/:id', error.message);
          break;
        }
        if (job.state === 'completed') {
          const ok = isEmbedding ? job.result?.embedding?.length === EMBEDDING_DIMENSIONS : job.result?.content === answerText(t, LOAD_PROFILE.chunks);
          if (!ok) fail('job result', JSON.stringify(job.result).slice(0, 200));
          else if (isEmbedding) out.embeddingJobs++;
          else out.completionJobs++;
          break;
        }
        if (job.state === 'failed' || performance.now() > deadline) {
          fail('job', `${job.state}: ${job.failedReason ?? 'not finished within 30 s'}`);
          break;
        }
      }
      await sleep(GAP_MS.job);
    }
  };

  // The idle instance's database pool has closed its connections meanwhile (pg's 10 s idle timeout):
  // refill it first, so that the round measures steady load, not reconnecting, whichever instance
  // went before.
  await Promise.all(
    Array.from({ length: 20 }, () => fetch(`${base}/api/v1/ai/conversations?page=1&limit=20`, { headers: auth(users.list) }).then((r) => r.arrayBuffer())),
  );
  resetPeakRss(pid);
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  await Promise.all([
    ...users.stream.slice(0, S.streamWorkers).map(streamWorker),
    ...users.rest.slice(0, S.restWorkers).map(restWorker),
    ...Array.from({ length: S.listWorkers }, (_, w) => listWorker(users.list, w)),
    ...users.jobs.slice(0, S.jobWorkers).map(jobWorker),
  ]);
  out.wallSecs = (performance.now() - t0) / 1000;
  out.cpuSecs = (cpuMs(pid) - cpu0) / 1000;
  out.peakRss = peakRssMb(pid);
  out.ttft50 = percentile(out.ttfts, 50);
  out.rest50 = percentile(out.restLatencies, 50);
  delete out.ttfts;
  delete out.restLatencies;
  return out;
}

// Two fresh instances, one as configured and one with MALLOC_ARENA_MAX set (unless
// --malloc-arena-max 0), loaded in turn (ABBA over rounds, so that drift in the machine's other load
// hits both alike; the idle one costs nothing meanwhile), each with its own Redis prefix so that
// neither works off the other's job queue.
export async function figureSustained(ctx, users) {
  const { opts } = ctx;
  const S = opts.sizes.sustained;
  const series = [{ key: 'a', label: 'default', env: {} }];
  if (opts.mallocArenaMax > 0) series.push({ key: 'b', label: `MALLOC_ARENA_MAX=${opts.mallocArenaMax}`, env: { MALLOC_ARENA_MAX: String(opts.mallocArenaMax) } });
  await setFakeProfile(ctx.fake, LOAD_PROFILE);
  const instances = [];
  try {
    for (const s of series) {
      const inspectPort = await freePort();
      const service = await startService(ctx, `service-sustained-${s.key}`, {
        port: await freePort(),
        fakeUrl: ctx.fake.url,
        env: { REDIS_PREFIX: `ai-bench-sustained-${s.key}`, ...s.env },
        nodeArgs: [`--inspect-port=127.0.0.1:${inspectPort}`],
      });
      instances.push({ ...s, service, inspectPort, inspectorStarted: false, rounds: [] });
    }
    await sleep(3000);
    for (const instance of instances) {
      const reading = await readMemory(instance);
      instance.rounds.push({ round: 0, ...reading });
      log(`fig 6 sustained ${instance.label} before load: RSS ${f1(reading.rss)} MB, heap ${f1(reading.heapUsed)} MB, ${reading.handles} handles`);
    }
    for (let round = 1; round <= S.rounds; round++) {
      const order = round % 2 === 1 ? instances : [...instances].reverse();
      for (const instance of order) {
        const load = await loadRound(ctx, instance, round, users);
        await sleep(1000); // closing sockets and finishing jobs settle
        const reading = await readMemory(instance);
        instance.rounds.push({ round, ...load, ...reading });
        log(
          `fig 6 sustained ${instance.label} round ${round}: ${f1(load.wallSecs)} s, CPU ${f1(load.cpuSecs, 2)} s, ` +
            `streams ${load.streamsEnded} ended + ${load.streamsStopped} stopped + ${load.streamsDropped} dropped${load.stopsTooLate ? ` (${load.stopsTooLate} stops came too late)` : ''}, ` +
            `${load.rest} REST, ${load.lists} lists, ${load.completionJobs}+${load.embeddingJobs} jobs, ` +
            `${load.errors.length} errors${load.errors.length ? ` (first: ${load.errors[0]})` : ''}; after a full GC: RSS ${f1(reading.rss)} MB, heap ${f1(reading.heapUsed)} MB, ` +
            `arenas ${f1(reading.mainArena + reading.threadArenas)} MB, ${reading.handles} handles, ${reading.resources} resources`,
        );
      }
    }
  } finally {
    for (const instance of instances) await stopProcess(instance.service.child);
  }
  ctx.results.figures.sustained = {
    profile: LOAD_PROFILE,
    sizes: S,
    gapsMs: GAP_MS,
    series: instances.map(({ key, label, env, rounds }) => ({ key, label, env, rounds })),
  };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------
const FLAT = 1.05;
const arenasOf = (r) => r.mainArena + r.threadArenas;
const loadRounds = (s) => s.rounds.filter((r) => r.round >= 2);
const medianOver = (s, f) => median(loadRounds(s).map(f).filter(Number.isFinite));
const pct = (a, b) => `${a >= b ? '+' : ''}${f1(((a - b) / b) * 100)}%`;

function flatness(s, key) {
  const r2 = s.rounds.find((r) => r.round === 2)?.[key];
  const last = s.rounds.at(-1);
  const r6 = last?.[key];
  return { r2, r6, lastRound: last?.round, ratio: r6 / r2 };
}

export function memoryRows(F, results, add) {
  if (F.idle) {
    const I = F.idle;
    add(
      '6 memory',
      'RSS at rest (fresh process, after a full GC)',
      `${f1(I.atRest)} MB (${f1(I.atRestNoGc)} MB 2 s after boot)`,
      '≤ 150 MB',
      check(I.atRest, '<=', 150) + missBy(I.atRest, 150, 'MB'),
    );
    if (Number.isFinite(I.atRestIdle)) {
      add(
        '6 memory',
        `RSS at rest (fresh process, idle ${I.idleSecs} s, no inspector)`,
        `${f1(I.atRestIdle)} MB`,
        '≤ 150 MB',
        check(I.atRestIdle, '<=', 150) + missBy(I.atRestIdle, 150, 'MB'),
      );
    }
    add(
      '6 memory',
      `RSS added by ${I.sockets} idle authenticated sockets (after a full GC)`,
      `${f1(I.added)} MB (${f1(I.withSockets)} MB total)`,
      '≤ 60 MB',
      check(I.added, '<=', 60) + missBy(I.added, 60, 'MB'),
    );
  }
  if (F.sustained) {
    for (const s of F.sustained.series) {
      const name = `6 memory, sustained load${s.label === 'default' ? '' : `, ${s.label}`}`;
      for (const [key, label] of [
        ['heapUsed', 'V8 heap used'],
        ['rss', 'RSS'],
      ]) {
        const { r2, r6, lastRound, ratio } = flatness(s, key);
        const value = `${f1(r2)} → ${f1(r6)} MB (${pct(r6, r2)}); before load ${f1(s.rounds[0][key])} MB`;
        const status = lastRound === 6 && ratio <= FLAT ? '✅' : `❌${Number.isFinite(ratio) ? ` (over by ${f1(r6 - FLAT * r2)} MB)` : ' (no value)'}`;
        add(name, `${label} after a full GC, round 2 → round 6`, value, 'round 6 ≤ 1.05 × round 2', status);
      }
      const h = flatness(s, 'handles');
      const a = flatness(s, 'resources');
      add(name, 'open handles / active resources after round 2 → round 6', `${h.r2} → ${h.r6} / ${a.r2} → ${a.r6}`, '—', '');
    }
    const all = F.sustained.series.flatMap((s) => s.rounds.filter((r) => r.round > 0));
    const errors = sum(all.map((r) => r.errors.length));
    const ops = sum(all.map((r) => r.streamsEnded + r.streamsStopped + r.streamsDropped + r.rest + r.lists + r.completionJobs + r.embeddingJobs));
    add('6 memory, sustained load', 'failed operations, all rounds', `${errors} (of ${ops + errors})`, '0', errors === 0 ? '✅' : '❌');
    const late = sum(all.map((r) => r.stopsTooLate ?? 0));
    const stops = sum(all.map((r) => r.streamsStopped + (r.stopsTooLate ?? 0)));
    if (late) add('6 memory, sustained load', 'chat:stop that arrived after the answer had ended (overloaded machine)', `${late} of ${stops}`, '—', '');
  }
  if (Number.isFinite(results.afterLoadRssMb)) {
    add('6 memory', 'RSS of the main instance, idle after figures 1-4 (no forced GC)', `${f1(results.afterLoadRssMb)} MB`, '—', '');
  }
}

function seriesTable(s) {
  const rows = s.rounds.map((r) => {
    const load =
      r.round === 0
        ? '| before load | — | — | — | — |'
        : `| ${r.round} | ${f1(r.wallSecs)} | ${f1(r.cpuSecs, 2)} | ${f1(r.ttft50)} / ${f1(r.rest50)} | ${r.errors.length} |`;
    const peak = r.round === 0 ? '—' : f1(r.peakRss);
    return `${load} ${peak} | ${f1(r.rss)} | ${f1(r.heapUsed)} | ${f1(r.heapPhysical)} | ${f1(r.mainArena)} + ${f1(r.threadArenas)} (${r.threadArenaCount}) | ${f1(r.otherAnon)} | ${f1(r.fileBacked)} | ${r.handles} / ${r.resources} |`;
  });
  return [
    `#### ${s.label}`,
    '',
    '| round | wall s | service CPU s | stream TTFT p50 / REST p50 ms | errors | peak RSS MB | RSS after GC MB | V8 heap used MB | V8 heap resident MB | malloc main + thread arenas MB (count) | other anonymous MB | file-backed MB | handles / resources |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

// What RSS is made of in the last round, and what capping the arenas did.
function conclusion(F) {
  const [base, capped] = F.sustained.series;
  const last = base.rounds.at(-1);
  const aboveHeap = last.rss - last.heapUsed;
  const parts =
    `After the last round, RSS ${f1(last.rss)} MB holds ${f1(last.heapUsed)} MB of live V8 heap; the ${f1(aboveHeap)} MB above it are ` +
    `the rest of V8's resident heap pages (${f1(last.heapPhysical - last.heapUsed)} MB: free space in pages V8 keeps), glibc's malloc ` +
    `arenas (${f1(last.mainArena)} MB main + ${f1(last.threadArenas)} MB in ${last.threadArenaCount} thread arenas: memory malloc'd ` +
    `outside the JS heap — Buffer and ArrayBuffer contents such as socket reads and writes, V8's compilers, node's and libuv's ` +
    `own structures — much of it already freed but kept by the allocator for reuse), other anonymous mappings outside V8's heap (${f1(last.otherAnon - last.heapPhysical)} MB: ` +
    `large malloc blocks, WebAssembly, thread stacks) and the mapped code of node and its libraries (${f1(last.fileBacked)} MB).`;
  if (!capped) return `${parts} No MALLOC_ARENA_MAX series in this run (--malloc-arena-max 0).`;
  const both = (f) => [medianOver(base, f), medianOver(capped, f)];
  const rss = both((r) => r.rss);
  const arenas = both(arenasOf);
  const peak = both((r) => r.peakRss);
  const cpu = both((r) => r.cpuSecs);
  const ttft = both((r) => r.ttft50);
  const rest = both((r) => r.rest50);
  const saved = rss[0] - rss[1];
  const savedPct = (saved / rss[0]) * 100;
  const cpuCostPct = (cpu[1] / cpu[0] - 1) * 100;
  // How much the same work's CPU moves from round to round within one series: differences between
  // the series below that are noise on this machine, not an effect.
  const spread = (s) => {
    const values = loadRounds(s).map((r) => r.cpuSecs);
    return ((Math.max(...values) - Math.min(...values)) / 2 / median(values)) * 100;
  };
  const noisePct = Math.max(spread(base), spread(capped));
  const signed = (v, unit) => `${v >= 0 ? '+' : '−'}${f1(Math.abs(v))}${unit}`;
  const measured =
    `With ${capped.label} (medians of rounds 2-6; the same work in both series, their rounds interleaved): RSS after a full GC ` +
    `${f1(rss[0])} → ${f1(rss[1])} MB (${signed(-saved, ' MB')}, ${signed(-savedPct, '%')}), of which malloc arenas ${f1(arenas[0])} → ${f1(arenas[1])} MB; ` +
    `before any load ${f1(base.rounds[0].rss)} → ${f1(capped.rounds[0].rss)} MB; peak RSS during a round ${f1(peak[0])} → ${f1(peak[1])} MB. ` +
    `Service CPU for a round's work ${f1(cpu[0], 2)} → ${f1(cpu[1], 2)} s (${signed(cpuCostPct, '%')}; rounds of one series differ by ±${f1(noisePct)}% among themselves), ` +
    `stream TTFT p50 ${f1(ttft[0])} → ${f1(ttft[1])} ms, REST p50 ${f1(rest[0])} → ${f1(rest[1])} ms.`;
  let verdict;
  if (savedPct >= 5 && cpuCostPct <= Math.max(3, noisePct)) {
    verdict =
      `So the container should set ${capped.label}: after load it keeps ${f1(saved)} MB (${f1(savedPct)}%) less resident, ` +
      `and the CPU the same work takes does not change beyond this machine's round-to-round noise, so throughput does not suffer.`;
  } else if (savedPct >= 5) {
    verdict =
      `It keeps ${f1(saved)} MB (${f1(savedPct)}%) less resident after load, but the same work took ${f1(cpuCostPct)}% more CPU, ` +
      `beyond the round-to-round noise: worth setting only where the container runs short of memory rather than CPU.`;
  } else {
    verdict =
      `The difference is small (${f1(savedPct)}% of RSS after load), so setting it in the container buys little: ` +
      `the arenas are not where this service's memory after load goes.`;
  }
  return `${parts}\n\n${measured} ${verdict}`;
}

export function memoryDetails(F) {
  if (!F.sustained) return '';
  const { sizes: S, profile, gapsMs } = F.sustained;
  const first = F.sustained.series[0].rounds.find((r) => r.round === 1);
  return `### Memory under sustained load (figure 6)

Fresh instances, ${S.rounds} rounds each of the same mixed work, all kinds at once: ${S.streamWorkers} sockets each connecting,
streaming ${S.streamsPerWorker} answers over \`/ai\` (the second stopped with \`chat:stop\` after ${CUT_AFTER_CHUNKS} chunks, the last one cut by
closing the socket after ${CUT_AFTER_CHUNKS} chunks on every third socket, the rest to \`chat:end\`) and disconnecting; ${S.restWorkers} users posting
${S.restPerWorker} \`POST /ai/chat\` turns each; ${S.listWorkers} × ${S.listsPerWorker} \`GET /ai/conversations\` pages of the user with 1,000
conversations; ${S.jobWorkers} users queueing ${S.jobsPerWorker} jobs each (completions and embeddings alternately) and polling
\`GET /ai/jobs/:id\` every ${gapsMs.poll} ms until done. REST, list and job workers pause ${gapsMs.rest} / ${gapsMs.list} / ${gapsMs.job} ms between
operations so that they overlap the streams. Fake upstream: first token after ${profile.ttftMs} ms, ${profile.chunks} chunks ${profile.cadenceMs} ms apart,
non-streaming answers and embeddings after ${profile.chatDelayMs} ms. Round 1 did ${first ? `${first.streamsEnded + first.streamsStopped + first.streamsDropped} streams (${first.streamsStopped} stopped, ${first.streamsDropped} cut by a disconnect), ${first.rest} REST turns, ${first.lists} lists, ${first.completionJobs + first.embeddingJobs} jobs` : 'no work'}.
After each round (1 s to settle): a full GC through the inspector (started with SIGUSR1 before the first reading, never during
a round), then heap and handles read in the process (\`process.memoryUsage()\`, \`process._getActiveHandles()\`,
\`process.getActiveResourcesInfo()\`), RSS from \`/proc/<pid>/status\` and its make-up from \`/proc/<pid>/smaps\`. Peak RSS is
\`VmHWM\` over the round. Target: heap and RSS flat from round 2 on (round 6 ≤ ${FLAT} × round 2).

${F.sustained.series.map(seriesTable).join('\n')}
${conclusion(F)}
`;
}

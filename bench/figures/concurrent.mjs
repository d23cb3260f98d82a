// Figure 2: 50, 200 and 1,000 simultaneous streams, direct (A) vs through the service's sockets (B).
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '../lib/children.mjs';
import { ABBA, medianOf, runConcurrent } from '../lib/load.mjs';
import { check, f1, missBy } from '../lib/format.mjs';
import { setFakeProfile } from '../lib/services.mjs';
import { max, median, percentile, sum } from '../lib/stats.mjs';

export async function figureConcurrent(ctx, service, sockets) {
  const { opts, fake } = ctx;
  await setFakeProfile(fake, opts.stream);
  // Warm-up: every socket's first turn (creates its conversation) and a direct burst; not measured.
  // In batches of 100, so that every socket gets its conversation even if 1,000 at once would fail.
  let warmOk = 0;
  for (let i = 0; i < sockets.length; i += 100) {
    const batch = sockets.slice(i, i + 100);
    const warm = await runConcurrent(ctx, 'B', { n: batch.length, sockets: batch, service, tagPrefix: `wc${i}` });
    warmOk += warm.completed;
    if (warm.errors.length) log(`fig 2 warm-up batch ${i / 100 + 1}: ${warm.errors.length} errors, first: ${warm.errors[0]}`);
  }
  log(`fig 2 warm-up through the service: ${warmOk}/${sockets.length} sockets have a conversation`);
  await runConcurrent(ctx, 'A', { n: 200, sockets, service, tagPrefix: 'wd' });
  await sleep(1000);
  const levels = {};
  for (const n of opts.sizes.levels) {
    const runsA = [];
    const runsB = [];
    const rounds = [];
    for (let r = 0; r < opts.sizes.concRounds; r++) {
      const round = { A: [], B: [] };
      for (const [k, side] of ABBA.entries()) {
        const run = await runConcurrent(ctx, side, { n, sockets, service, tagPrefix: `c${n}_${r}_${k}` });
        round[side].push(run);
        (side === 'A' ? runsA : runsB).push(run);
        log(
          `fig 2 n=${n} round ${r + 1} ${side}: ${run.completed}/${n} ok, ${Math.round(run.chunksPerSec)} chunks/s, TTFT p50 ${percentile(run.ttfts, 50).toFixed(1)} p99 ${percentile(run.ttfts, 99).toFixed(1)} ms, CPU ${run.cpuMsPerStream.toFixed(2)} ms/stream${run.errors.length ? `, first error: ${run.errors[0]}` : ''}`,
        );
        await sleep(n >= 1000 ? 1500 : 500);
      }
      const aT = round.A.flatMap((x) => x.ttfts);
      const bT = round.B.flatMap((x) => x.ttfts);
      rounds.push({
        addedTtft50: percentile(bT, 50) - percentile(aT, 50),
        addedTtft99: percentile(bT, 99) - percentile(aT, 99),
        chunksRatio: median(round.B.map((x) => x.chunksPerSec)) / median(round.A.map((x) => x.chunksPerSec)),
      });
    }
    levels[n] = {
      n,
      completedMin: Math.min(...runsB.map((x) => x.completed)),
      runsB: runsB.length,
      errorsB: sum(runsB.map((x) => x.errors.length)),
      errorsA: sum(runsA.map((x) => x.errors.length)),
      firstError: runsB.flatMap((x) => x.errors)[0] ?? runsA.flatMap((x) => x.errors)[0] ?? null,
      addedTtft50: medianOf(rounds, 'addedTtft50'),
      addedTtft99: medianOf(rounds, 'addedTtft99'),
      directTtft50: median(runsA.map((x) => percentile(x.ttfts, 50))),
      serviceTtft99: median(runsB.map((x) => percentile(x.ttfts, 99))),
      chunksPerSecA: median(runsA.map((x) => x.chunksPerSec)),
      chunksPerSecB: median(runsB.map((x) => x.chunksPerSec)),
      chunksRatio: medianOf(rounds, 'chunksRatio'),
      cpuMsPerStream: median(runsB.map((x) => x.cpuMsPerStream)),
      fakeCpuMsPerStream: median(runsA.map((x) => x.fakeCpuMsPerStream)),
      peakRssMb: max(runsB.map((x) => x.peakRssMb)),
      wallSecsB: median(runsB.map((x) => x.wallSecs)),
      wallSecsA: median(runsA.map((x) => x.wallSecs)),
    };
  }
  ctx.results.figures.concurrent = { levels, profile: opts.stream };
}

export function concurrentRows(F, add) {
  if (!F.concurrent) return;
  for (const L of Object.values(F.concurrent.levels)) {
    const name = `2 ${L.n} simultaneous streams`;
    const complete = `${L.completedMin}/${L.n} (worst of ${L.runsB} runs), errors ${L.errorsB}`;
    const chunks = `${Math.round(L.chunksPerSecB)} vs ${Math.round(L.chunksPerSecA)} (${f1(L.chunksRatio * 100)}%)`;
    const ttft = `${f1(L.addedTtft50)} / ${f1(L.addedTtft99)} ms`;
    if (L.n === 200) {
      add(name, 'completed with exact text', complete, '200/200', L.completedMin === 200 && L.errorsB === 0 ? '✅' : '❌');
      add(name, 'chunks/s via service vs direct', chunks, '≥ 90%', L.chunksRatio >= 0.9 ? '✅' : `❌ (short by ${f1((0.9 - L.chunksRatio) * 100)} points)`);
      add(name, 'added TTFT p50 / p99', ttft, 'p99 ≤ 100 ms', check(L.addedTtft99, '<=', 100) + missBy(L.addedTtft99, 100));
    } else {
      add(name, 'completed, errors', complete, L.n === 1000 ? 'all, 0 errors' : '—', L.completedMin === L.n && L.errorsB === 0 ? '✅' : '❌');
      add(name, 'chunks/s via service vs direct', chunks, '—', '');
      add(name, 'added TTFT p50 / p99', ttft, '—', '');
    }
    add(name, 'service CPU per stream; peak RSS', `${f1(L.cpuMsPerStream, 2)} ms; ${f1(L.peakRssMb)} MB`, '—', '');
  }
}

export function concurrentDetails(F, opts) {
  if (!F.concurrent) return '';
  const levels = Object.values(F.concurrent.levels);
  const firstErrors = levels.map((L) => (L.firstError ? `n=${L.n}: \`${String(L.firstError).slice(0, 300)}\`` : '')).filter(Boolean);
  return `### Streams at concurrency (medians over ${opts.sizes.concRounds * 2} runs per side)

| streams | direct TTFT p50 | added TTFT p50 / p99 | chunks/s direct → service | wall s direct / service | service CPU ms/stream | fake CPU ms/stream | peak RSS MB |
|---|---|---|---|---|---|---|---|
${levels
  .map(
    (L) =>
      `| ${L.n} | ${f1(L.directTtft50)} | ${f1(L.addedTtft50)} / ${f1(L.addedTtft99)} | ${Math.round(L.chunksPerSecA)} → ${Math.round(L.chunksPerSecB)} | ${f1(L.wallSecsA, 2)} / ${f1(L.wallSecsB, 2)} | ${f1(L.cpuMsPerStream, 2)} | ${f1(L.fakeCpuMsPerStream, 2)} | ${f1(L.peakRssMb)} |`,
  )
  .join('\n')}
${firstErrors.length ? `\nFirst error seen: ${firstErrors.join('; ')}\n` : ''}`;
}

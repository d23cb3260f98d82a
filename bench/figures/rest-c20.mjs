// Figure 3: POST /ai/chat at concurrency 20 vs direct non-streaming completions, fixed duration.
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '../lib/children.mjs';
import { ABBA, completion, medianOf, runForDuration, serviceTurn } from '../lib/load.mjs';
import { f1 } from '../lib/format.mjs';
import { setFakeProfile } from '../lib/services.mjs';
import { median, sum } from '../lib/stats.mjs';

export async function figureRestConcurrency(ctx, service, users) {
  const { opts, fake } = ctx;
  await setFakeProfile(fake, { ...opts.stream, chatDelayMs: opts.chatDelayMs });
  const C = 20;
  const conversations = users.map(() => ({ conversationId: null }));
  const run = async (side, secs, label) => ({
    side,
    ...(await runForDuration({
      C,
      secs,
      label,
      pid: side === 'A' ? fake.pid : service.pid,
      once: (w, tag) => (side === 'A' ? completion(ctx, fake.url, tag) : serviceTurn(ctx, service, users[w].token, conversations[w], tag)),
    })),
  });
  await run('B', 1.5, 'w3b');
  await run('A', 1, 'w3a');
  const rounds = [];
  const all = [];
  for (let r = 0; r < opts.sizes.c20Rounds; r++) {
    const round = { A: [], B: [] };
    for (const [k, side] of ABBA.entries()) {
      const res = await run(side, opts.sizes.c20Secs, `c20_${r}_${k}`);
      round[side].push(res);
      all.push(res);
      log(`fig 3 round ${r + 1} ${side}: ${res.rps.toFixed(1)} req/s, p50 ${res.p50.toFixed(1)} p99 ${res.p99.toFixed(1)} ms, ${res.errors.length} errors`);
      await sleep(300);
    }
    rounds.push({
      ratio: median(round.B.map((x) => x.rps)) / median(round.A.map((x) => x.rps)),
      added50: median(round.B.map((x) => x.p50)) - median(round.A.map((x) => x.p50)),
      added99: median(round.B.map((x) => x.p99)) - median(round.A.map((x) => x.p99)),
    });
  }
  const A = all.filter((x) => x.side === 'A');
  const B = all.filter((x) => x.side === 'B');
  ctx.results.figures.rest20 = {
    ratio: medianOf(rounds, 'ratio'),
    added50: medianOf(rounds, 'added50'),
    added99: medianOf(rounds, 'added99'),
    rpsA: median(A.map((x) => x.rps)),
    rpsB: median(B.map((x) => x.rps)),
    errorsA: sum(A.map((x) => x.errors.length)),
    errorsB: sum(B.map((x) => x.errors.length)),
    firstError: B.flatMap((x) => x.errors)[0] ?? A.flatMap((x) => x.errors)[0] ?? null,
    cpuMsPerReq: median(B.map((x) => x.cpuMsPerReq)),
  };
}

export function restConcurrencyRows(F, add) {
  if (!F.rest20) return;
  const R = F.rest20;
  add(
    '3 POST /ai/chat, c=20',
    'throughput via service vs direct',
    `${f1(R.rpsB)} vs ${f1(R.rpsA)} req/s (${f1(R.ratio, 3)}x)`,
    '≥ 0.95x',
    R.ratio >= 0.95 ? '✅' : `❌ (short by ${f1(0.95 - R.ratio, 3)})`,
  );
  add('3 POST /ai/chat, c=20', 'added latency p50 / p99', `${f1(R.added50, 2)} / ${f1(R.added99, 2)} ms`, '—', '');
  add(
    '3 POST /ai/chat, c=20',
    'errors (service / direct); service CPU per request',
    `${R.errorsB} / ${R.errorsA}; ${f1(R.cpuMsPerReq, 2)} ms`,
    '0',
    R.errorsB === 0 ? '✅' : '❌',
  );
}

// Figure 8: what content moderation adds to the time to the first token. Two service instances
// started alike, one with AI_MODERATION=off and one with AI_MODERATION=block, the fake answering
// every moderation after 30 ms. On each, one client streams over /ai (B) against the same client
// streaming from the fake with the openai SDK (A), ABBA, the two instances' quads taking turns so
// that drift hits both. The check runs beside the turn's first read (ChatTurnRunner.prepare), so
// block should add over off only the part of the 30 ms that the read does not hide, + 1 ms.
//
// The read is timed in a child process (bench/lib/turn-read-cost.mjs) rather than on the wire
// through lib/pg-counter-proxy.mjs: a turn waits for the whole of findTurnContext — pool checkout,
// the pg driver and the result's parsing as well as PostgreSQL — and that is what hides the check,
// while the wire sees only the server's part and would put a proxy hop into every statement of
// the instances measured. The child runs the build's own repository on its own PrismaService pool,
// for the block instance's user and conversation (a full history), with the instances stopped.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { answerText } from '../lib/answer.mjs';
import { freePort, log, stopProcess } from '../lib/children.mjs';
import { connectSocket, streamViaSocket } from '../lib/clients.mjs';
import { check, f1, missBy } from '../lib/format.mjs';
import { abbaGroups, directStream, msg } from '../lib/load.mjs';
import { BENCH } from '../lib/options.mjs';
import { setFakeProfile, startService } from '../lib/services.mjs';

// Short answers, as figure 7: the figure is about the time to the first token.
const CHUNKS = 20;
const MODERATION_DELAY_MS = 30;
// The service's default AI_HISTORY_LIMIT: what every measured turn (and the timed read) reads.
const HISTORY_LIMIT = 10;
const SLACK_MS = 1;
const MODES = ['off', 'block'];

export async function figureModeration(ctx, users) {
  const { opts, fake } = ctx;
  const profile = { ...opts.stream, chunks: CHUNKS, cadenceMs: opts.oneClientCadenceMs, chatDelayMs: opts.chatDelayMs, moderationDelayMs: MODERATION_DELAY_MS };
  await setFakeProfile(fake, profile);
  const out = { chunks: CHUNKS, cadenceMs: opts.oneClientCadenceMs, ttftMs: opts.stream.ttftMs, moderationDelayMs: MODERATION_DELAY_MS };
  ctx.results.figures.moderation = out;

  const instances = [];
  try {
    for (const mode of MODES) {
      const service = await startService(ctx, `moderation-${mode}`, { port: await freePort(), fakeUrl: fake.url, env: { AI_MODERATION: mode } });
      log(`fig 8 service moderation-${mode} ${service.base} (pid ${service.pid})`);
      instances.push({ mode, service, user: users[mode], socket: await connectSocket(service.base, users[mode].token), turns: 0 });
    }
    const stats0 = await fakeStats(fake);
    const series = await abbaGroups({
      figure: 8,
      rounds: opts.sizes.moderationRounds,
      perRound: opts.sizes.moderationPerRound,
      groups: MODES.length,
      groupName: (group) => ` ${MODES[group]}`,
      label: 'moderation',
      run: async (side, tag, group) => {
        if (side === 'B') instances[group].turns++;
        const res =
          side === 'A' ? await directStream(ctx, tag, CHUNKS) : await streamViaSocket(instances[group].socket, { message: msg(tag), expected: answerText(tag, CHUNKS) });
        return { ok: res.ok, error: res.error, value: res.ttft };
      },
    });
    const stats1 = await fakeStats(fake);
    MODES.forEach((mode, group) => (out[mode] = { ...series[group], turns: instances[group].turns, checks: null }));
    for (const { mode, service } of instances) out[mode].checks = await moderationChecks(service);
    out.upstreamModerations = stats1.moderations - stats0.moderations;
    out.fakeLateMs = out.upstreamModerations ? (stats1.moderationLateMs - stats0.moderationLateMs) / out.upstreamModerations : NaN;
  } finally {
    for (const { socket, service } of instances) {
      socket.close();
      await stopProcess(service.child);
    }
  }

  const block = instances.find((i) => i.mode === 'block');
  out.read = readCost(ctx, { userId: block.user.id, conversationId: block.socket.bench.conversationId });
  log(`fig 8 the turn's read: ${JSON.stringify(out.read)}`);
  out.difference = out.block.p50 - out.off.p50;
  // The part of the check's latency that the read hides: the read as a turn without moderation waits
  // for it (alone); beside the check it is padded by the check's own work, which is the check's cost.
  out.hiddenMs = Math.min(out.read.readAlone?.p50 ?? NaN, MODERATION_DELAY_MS);
  out.targetMs = MODERATION_DELAY_MS - out.hiddenMs + SLACK_MS;
  // What the service adds around the check: the difference beyond the call's own time (through the
  // same SDK, timed by the child) less the hidden read. Near 0 when the two overlap and nothing queues.
  out.beyondCallMs = out.difference - ((out.read.moderation?.p50 ?? NaN) - out.hiddenMs);
  await setFakeProfile(fake, { ...opts.stream, chatDelayMs: opts.chatDelayMs, moderationDelayMs: 0 });
}

function readCost(ctx, { userId, conversationId }) {
  const args = {
    databaseUrl: ctx.opts.databaseUrl,
    fakeUrl: ctx.fake.url,
    userId,
    conversationId,
    historyLimit: HISTORY_LIMIT,
    moderationDelayMs: MODERATION_DELAY_MS,
    calls: ctx.opts.quick ? 100 : 300,
  };
  try {
    const text = execFileSync(process.execPath, [path.join(BENCH, 'lib', 'turn-read-cost.mjs'), ctx.dist, JSON.stringify(args)], { encoding: 'utf8', timeout: 120_000 });
    return JSON.parse(text.trim().split('\n').at(-1));
  } catch (error) {
    return { error: String(error?.message ?? error).slice(0, 300) };
  }
}

const fakeStats = async (fake) => (await fetch(`${fake.origin}/_bench/stats`)).json();

// ai_moderation_checks_total over all results, from the instance's /metrics.
async function moderationChecks(service) {
  const text = await (await fetch(`${service.base}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('ai_moderation_checks_total{'))
    .reduce((total, line) => total + Number(line.trim().split(/\s+/).at(-1)), 0);
}

// One moderation request per block turn (warm-up included) reached the fake, and none from off.
const checksAsExpected = (M) => M.upstreamModerations === M.block.turns && M.block.checks === M.block.turns && M.off.checks === 0;

export function moderationRows(F, add) {
  const M = F.moderation;
  if (!M?.off || !M.block) return;
  const fig = '8 moderation, stream';
  const read = M.read ?? {};
  add(fig, 'added TTFT p50, AI_MODERATION=off', `${f1(M.off.p50, 2)} ms`, '—', '');
  add(fig, `added TTFT p50, AI_MODERATION=block (moderation ${M.moderationDelayMs} ms)`, `${f1(M.block.p50, 2)} ms`, '—', '');
  add(fig, "the turn's read p50 (findTurnContext; hides the check)", read.error ? 'n/a' : `${f1(read.readAlone.p50, 2)} ms`, '—', read.error ? '❌' : '');
  add(
    fig,
    `block − off (≤ ${M.moderationDelayMs} − read + ${SLACK_MS} ms)`,
    `${f1(M.difference, 2)} ms`,
    `≤ ${f1(M.targetMs, 2)} ms`,
    check(M.difference, '<=', M.targetMs) + missBy(M.difference, M.targetMs),
  );
  add(
    fig,
    `the moderation call p50 (OpenAiProvider), fake at ${M.moderationDelayMs} ms / at once`,
    read.error ? 'n/a' : `${f1(read.moderation.p50, 2)} / ${f1(read.moderationAtOnce.p50, 2)} ms`,
    '—',
    '',
  );
  add(fig, 'block − off beyond the moderation call less the read', `${f1(M.beyondCallMs, 2)} ms`, '—', '');
  const failed = M.off.errors.length + M.block.errors.length;
  add(fig, 'failed or wrong streams (off + block)', `${failed}`, '0', failed ? '❌' : '✅');
  add(
    fig,
    'moderation requests per turn, block / off',
    `${f1(M.upstreamModerations / M.block.turns, 2)} / ${f1(M.off.checks / M.off.turns, 2)}`,
    '1 / 0',
    checksAsExpected(M) ? '✅' : '❌',
  );
}

export function moderationDetails(F) {
  const M = F.moderation;
  if (!M?.off || !M.block) return '';
  const read = M.read ?? {};
  const perRound = (s) => s.rounds.map((r) => f1(r.p50, 2)).join(', ');
  const lines = [
    '### 8. Content moderation',
    '',
    `Two service instances started alike, \`AI_MODERATION=off\` and \`AI_MODERATION=block\`, on the same fake (first token after ${M.ttftMs} ms, ${M.chunks} chunks one every ${M.cadenceMs} ms), which answers every \`POST /v1/moderations\` (not flagged, the 13 omni-moderation categories) after ${M.moderationDelayMs} ms. On each, one socket on \`/ai\` keeps one conversation (so each turn reads ${HISTORY_LIMIT} history messages) (B), against the same client streaming from the fake with the \`openai\` SDK (A), ABBA; the two instances' quads take turns, so drift hits both. "Added" is percentile(B) − percentile(A) within a round, median over rounds. Every answer is checked for its exact text.`,
    '',
    '| instance | added TTFT p50 / p95 / p99 | per round p50 | direct TTFT p50 | through the service p50 | streams per side × rounds | failed |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const mode of MODES) {
    const s = M[mode];
    lines.push(
      `| \`AI_MODERATION=${mode}\` | ${f1(s.p50, 2)} / ${f1(s.p95, 2)} / ${f1(s.p99, 2)} ms | ${perRound(s)} ms | ${f1(s.a50, 1)} ms | ${f1(s.b50, 1)} ms | ${s.rounds[0]?.n ?? 0} × ${s.rounds.length} | ${s.errors.length} |`,
    );
  }
  lines.push(
    '',
    `The fake received ${M.upstreamModerations} moderation requests over the block instance's ${M.block.turns} turns (warm-up included); \`ai_moderation_checks_total\`: ${M.block.checks} on block, ${M.off.checks} on off. The fake's timer fired ${f1(M.fakeLateMs, 2)} ms late on average after its ${M.moderationDelayMs} ms.`,
    '',
  );
  if (read.error) {
    lines.push(`The turn's read could not be timed (${read.error}).`, '');
  } else {
    lines.push(
      `**The turn's read** (\`ChatTurnRepository.findTurnContext\` of this build on its own \`PrismaService\` pool, the block instance's user and conversation, ${read.historyRows} history rows, in a process of its own with the instances stopped; ${read.readAlone.n} calls after a warm-up): p50 ${f1(read.readAlone.p50, 2)} ms (p95 ${f1(read.readAlone.p95, 2)} ms, first call ${f1(read.firstCallMs, 2)} ms). That is what a turn without moderation waits for, so it is the part of the check it hides. Started beside a moderation call through the build's \`OpenAiProvider\`, a microtask apart as \`prepare()\` starts them, the read takes ${f1(read.readBeside.p50, 2)} ms p50, the moderation call ${f1(read.moderation.p50, 2)} ms p50 and both together ${f1(read.both.p50, 2)} ms; the same moderation call with the fake answering at once takes ${f1(read.moderationAtOnce.p50, 2)} ms p50 (the SDK and the local round trip).`,
      '',
      `**Target**: block − off = ${f1(M.block.p50, 2)} − ${f1(M.off.p50, 2)} = ${f1(M.difference, 2)} ms against ${M.moderationDelayMs} − ${f1(M.hiddenMs, 2)} + ${SLACK_MS} = ${f1(M.targetMs, 2)} ms: ${M.difference <= M.targetMs ? 'met' : `missed by ${f1(M.difference - M.targetMs, 2)} ms`}. Against the moderation call's own time instead of the fake's ${M.moderationDelayMs} ms, block − off − (${f1(read.moderation.p50, 2)} − ${f1(M.hiddenMs, 2)}) = ${f1(M.beyondCallMs, 2)} ms: what the service adds around the check. \`bench/probes/moderation-call.mjs\` splits the call's time beyond ${M.moderationDelayMs} ms between the fake's timer, the client (node:http, fetch, the SDK) and this machine's wake-ups after a sleep.`,
      '',
    );
  }
  return lines.join('\n');
}

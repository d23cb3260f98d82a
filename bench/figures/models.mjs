// Figure 7: models and providers, on instances of their own (each with its AI_MODELS_FILE):
//   a. one client, sequential, streaming over /ai through the Anthropic and the Gemini adapter (B)
//      vs the same client talking to the fake with that provider's SDK (A), ABBA, as figure 1
//      does for OpenAI (and the OpenAI adapter again, on the same instance, for reference);
//   b. the fallback penalty: streams asking for a model whose upstream refuses the connection
//      (Anthropic at a closed port, falling back to an OpenAI model) (B) vs streams asking for
//      that fallback model directly (A), ABBA, same socket;
//   c. context fitting: POST /ai/chat continuing a conversation of 50+ messages with
//      AI_HISTORY_LIMIT=50, on a model with a known context window (fitting runs) (B) vs the same
//      upstream registered without one (fitting skipped) (A), ABBA, same conversation; and the
//      fitting alone, timed in a process of its own (bench/lib/fit-cost.mjs).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { answerText } from '../lib/answer.mjs';
import { log, freePort, stopProcess } from '../lib/children.mjs';
import {
  connectSocket,
  createAnthropicClient,
  createGeminiClient,
  postJson,
  streamDirectAnthropic,
  streamDirectGemini,
  streamDirectSdk,
  streamViaSocket,
} from '../lib/clients.mjs';
import { check, f1, missBy } from '../lib/format.mjs';
import { abbaGroups, msg } from '../lib/load.mjs';
import { BENCH } from '../lib/options.mjs';
import { setFakeProfile, startService } from '../lib/services.mjs';
import { percentile } from '../lib/stats.mjs';

// Short answers: the figure is about the time to the first token, and stays short.
const CHUNKS = 20;
const EMBEDDING = { id: 'text-embedding-3-small', provider: 'openai', capabilities: ['embeddings'] };
const PRICE = { inputPerMTok: 0.15, outputPerMTok: 0.6 };
// Registry ids the catalogue knows (so their context windows, output limits and prices are the
// real ones); the OpenAI one is the service's default model (OPENAI_MODEL), measured for reference.
const PROVIDERS = {
  anthropic: { id: 'claude-sonnet-4-20250514', label: 'Anthropic', client: createAnthropicClient, direct: streamDirectAnthropic },
  gemini: { id: 'gemini-2.5-flash', label: 'Gemini', client: createGeminiClient, direct: streamDirectGemini },
  openai: { id: null, label: 'OpenAI', client: null, direct: null },
};
const FALLBACK = { primary: 'claude-down', upstream: 'claude-sonnet-4-20250514' };
const FIT = { fit: 'bench-fit', noFit: 'bench-nofit', noFit2: 'bench-nofit-2', contextWindow: 128_000, historyLimit: 50, seedTurns: 26 };

export async function figureModels(ctx, users) {
  const { opts, fake } = ctx;
  await setFakeProfile(fake, { ...opts.stream, chunks: CHUNKS, cadenceMs: opts.oneClientCadenceMs, chatDelayMs: opts.chatDelayMs });
  const out = { chunks: CHUNKS, cadenceMs: opts.oneClientCadenceMs, ttftMs: opts.stream.ttftMs, chatDelayMs: opts.chatDelayMs };
  ctx.results.figures.models = out;

  // a. Anthropic and Gemini adapters vs their SDKs.
  const providerModels = Object.entries(PROVIDERS)
    .filter(([kind]) => kind !== 'openai')
    .map(([kind, p]) => ({ id: p.id, provider: kind }));
  const providers = await withService(ctx, 'models-providers', providerModels, { ANTHROPIC_BASE_URL: fake.origin, GEMINI_BASE_URL: fake.origin });
  try {
    out.providers = {};
    for (const [kind, p] of Object.entries(PROVIDERS)) out.providers[kind] = await providerSeries(ctx, providers.service, users.providers, kind, p);
  } finally {
    await stopProcess(providers.service.child);
  }

  // b. Fallback before the first token: the primary's upstream refuses the connection.
  const closedPort = await freePort();
  const fallback = await withService(
    ctx,
    'models-fallback',
    [{ id: FALLBACK.primary, provider: 'anthropic', upstreamModel: FALLBACK.upstream, fallbacks: [opts.model] }],
    // OPENAI_MAX_RETRIES is every SDK's retry count: above 0 the Anthropic SDK would retry the
    // refused connection with back-off before the service could fall back.
    { ANTHROPIC_BASE_URL: `http://127.0.0.1:${closedPort}`, OPENAI_MAX_RETRIES: '0' },
  );
  try {
    out.fallback = await fallbackSeries(ctx, fallback.service, users.fallback, closedPort);
    out.fallback.closedPort = closedPort;
  } finally {
    await stopProcess(fallback.service.child);
  }

  // c. Context fitting over a 50-message history.
  const fitting = await withService(
    ctx,
    'models-fitting',
    [
      { id: FIT.fit, provider: 'openai', upstreamModel: `${FIT.fit}-upstream`, contextWindow: FIT.contextWindow, maxOutputTokens: 16_384, pricing: PRICE },
      { id: FIT.noFit, provider: 'openai', upstreamModel: `${FIT.noFit}-upstream`, maxOutputTokens: 16_384, pricing: PRICE },
      { id: FIT.noFit2, provider: 'openai', upstreamModel: `${FIT.noFit2}-upstream`, maxOutputTokens: 16_384, pricing: PRICE },
    ],
    { AI_HISTORY_LIMIT: String(FIT.historyLimit) },
  );
  try {
    out.fitting = await fittingSeries(ctx, fitting.service, users.fitting);
  } finally {
    await stopProcess(fitting.service.child);
  }
  out.fitting.alone = fitCost(ctx.dist);
  log(`fig 7 fitting alone: ${JSON.stringify(out.fitting.alone)}`);
  await setFakeProfile(fake, { ...opts.stream, chatDelayMs: opts.chatDelayMs });
}

// The fitting alone, in a child process (bench/lib/fit-cost.mjs).
function fitCost(dist) {
  try {
    const out = execFileSync(process.execPath, [path.join(BENCH, 'lib', 'fit-cost.mjs'), dist, String(FIT.historyLimit)], { encoding: 'utf8', timeout: 60_000 });
    return JSON.parse(out.trim().split('\n').at(-1));
  } catch (error) {
    return { error: String(error?.message ?? error).slice(0, 300) };
  }
}

// A service instance whose registry is the default chat and embedding models plus `models`.
async function withService(ctx, name, models, env) {
  const modelsFile = path.join(ctx.opts.work, `${name}.models.json`);
  writeFileSync(modelsFile, JSON.stringify({ models: [{ id: ctx.opts.model, provider: 'openai' }, EMBEDDING, ...models] }, null, 2));
  const service = await startService(ctx, name, { port: await freePort(), fakeUrl: ctx.fake.url, env: { AI_MODELS_FILE: modelsFile, ...env } });
  log(`fig 7 service ${name} ${service.base} (pid ${service.pid}), models ${modelsFile}`);
  return { service, modelsFile };
}

// Figure 7's ABBA rounds (lib/load.mjs): a second group is an A/A control.
async function abbaRounds(args) {
  const [main, ...controls] = await abbaGroups({ figure: 7, groupName: (group) => (group ? ' (control)' : ''), ...args });
  return controls.length ? { ...main, controls } : main;
}

const streamResult = (res, extraCheck = null) => {
  const wrong = res.ok ? extraCheck?.(res) : null;
  return { ok: res.ok && !wrong, error: res.error ?? wrong, value: res.ttft };
};

async function providerSeries(ctx, service, user, kind, provider) {
  const { sizes } = ctx.opts;
  // The OpenAI reference: the default model, with the bench's openai client (as figure 1).
  const p = provider.id ? provider : { ...provider, id: ctx.opts.model, client: () => ctx.direct, direct: streamDirectSdk };
  const client = p.client(ctx.fake.origin);
  const socket = await connectSocket(service.base, user.token);
  const expectedModel = (res) => (res.endData?.model === p.id ? null : `answered by ${res.endData?.model}`);
  try {
    const series = await abbaRounds({
      rounds: sizes.modelRounds,
      perRound: sizes.modelPerRound,
      label: kind,
      run: async (side, tag) => {
        const expected = answerText(tag, CHUNKS);
        if (side === 'A') return streamResult(await p.direct(client, { model: p.id, message: msg(tag), expected }));
        return streamResult(await streamViaSocket(socket, { message: msg(tag), expected, model: p.id }), expectedModel);
      },
    });
    return { ...series, model: p.id };
  } finally {
    socket.close();
  }
}

async function fallbackSeries(ctx, service, user, closedPort) {
  const { opts } = ctx;
  const refusal = await refusalTime(closedPort);
  const socket = await connectSocket(service.base, user.token);
  const fallbacks0 = await fallbackCount(service);
  let asked = 0;
  try {
    const series = await abbaRounds({
      rounds: opts.sizes.modelRounds,
      perRound: opts.sizes.modelPerRound,
      label: 'fallback',
      run: async (side, tag) => {
        if (side === 'B') asked++;
        const res = await streamViaSocket(socket, { message: msg(tag), expected: answerText(tag, CHUNKS), model: side === 'B' ? FALLBACK.primary : opts.model });
        return streamResult(res, (r) => (r.endData?.model === opts.model ? null : `answered by ${r.endData?.model}`));
      },
    });
    series.fallbacks = (await fallbackCount(service)) - fallbacks0;
    series.primaryStreams = asked;
    series.fallbackModel = opts.model;
    series.refusal = refusal;
    return series;
  } finally {
    socket.close();
  }
}

// What the primary's own failure costs, outside the service: @anthropic-ai/sdk, set up as the
// service sets it up, opening a stream against the closed port until it throws (p50 of 40, after
// 10 not counted).
async function refusalTime(port) {
  const client = createAnthropicClient(`http://127.0.0.1:${port}`);
  const times = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    try {
      await client.messages.create({
        model: FALLBACK.upstream,
        max_tokens: 4096,
        temperature: 0.7,
        messages: [{ role: 'user', content: msg(`refused${i}`) }],
        stream: true,
      });
    } catch {
      if (i >= 10) times.push(performance.now() - t0);
    }
  }
  return { p50: percentile(times, 50), n: times.length };
}

// ai_fallbacks_total{from=primary,to=fallback} in the instance's /metrics.
async function fallbackCount(service) {
  const text = await (await fetch(`${service.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('ai_fallbacks_total{') && l.includes(`from="${FALLBACK.primary}"`));
  return line ? Number(line.trim().split(/\s+/).at(-1)) : 0;
}

async function fittingSeries(ctx, service, user) {
  const { opts, fake } = ctx;
  // The upstream answers at once: its latency is the same on both sides and only adds jitter.
  await setFakeProfile(fake, { chatDelayMs: 0 });
  const auth = { authorization: `Bearer ${user.token}` };
  const registry = await (await fetch(`${service.base}/api/v1/ai/models`, { headers: auth })).json();
  const windowOf = (id) => (Array.isArray(registry) ? registry.find((m) => m.id === id)?.contextWindow : undefined);
  // The conversation, built through the API so that every message stores its contentTokens as the
  // service counts them: 26 turns = 52 messages, so each measured turn reads a full 50.
  let conversationId = null;
  for (let i = 0; i < FIT.seedTurns; i++) {
    const res = await postJson(`${service.base}/api/v1/ai/chat`, { message: msg(`seed${i}`), conversationId }, auth);
    if (!res.ok) throw new Error(`fig 7 fitting: seeding turn ${i} failed: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    conversationId = res.body.conversationId;
  }
  // Quads of the comparison (A not fitted, B fitted) take turns with quads of an A/A control (A and
  // B both not fitted, two registry ids of one kind), which shows this set-up's noise.
  const series = await abbaRounds({
    rounds: opts.sizes.fitRounds,
    perRound: opts.sizes.fitPerRound,
    // Turns are short (the fake answers at once): a longer warm-up, so round 1 is not JIT warm-up.
    warmUp: 100,
    groups: 2,
    label: 'fitting',
    run: async (side, tag, group) => {
      const model = side === 'A' ? FIT.noFit : group === 0 ? FIT.fit : FIT.noFit2;
      const res = await postJson(`${service.base}/api/v1/ai/chat`, { message: msg(tag), conversationId, model }, auth);
      const ok = res.ok && res.body?.content === answerText(tag, CHUNKS) && res.body?.model === model;
      return { ok, error: ok ? null : `${res.status} ${res.error ?? JSON.stringify(res.body).slice(0, 200)}`, value: res.latency };
    },
  });
  const { byModel } = await (await fetch(`${fake.origin}/_bench/stats`)).json();
  series.upstreamMessages = { fit: byModel[`${FIT.fit}-upstream`], noFit: byModel[`${FIT.noFit}-upstream`], noFit2: byModel[`${FIT.noFit2}-upstream`] };
  series.contextWindow = { fit: windowOf(FIT.fit), noFit: windowOf(FIT.noFit) };
  return series;
}

const messagesText = (m) => (!m ? 'n/a' : m.minMessages === m.maxMessages ? `${m.minMessages}` : `${m.minMessages}–${m.maxMessages}`);

export function modelsRows(F, add) {
  const M = F.models;
  if (!M) return;
  for (const [kind, p] of Object.entries(PROVIDERS)) {
    const s = M.providers?.[kind];
    if (!s) continue;
    const fig = `7 ${p.label} adapter${kind === 'openai' ? ' (reference)' : ''}, stream`;
    if (kind === 'openai') {
      add(
        fig,
        'added TTFT p50 / p95 / p99, same instance and profile',
        `${f1(s.p50, 2)} / ${f1(s.p95, 2)} / ${f1(s.p99, 2)} ms`,
        '—',
        s.errors.length ? `❌ ${s.errors.length} failed` : '',
      );
      continue;
    }
    add(fig, 'added TTFT p50', `${f1(s.p50, 2)} ms`, '≤ 3 ms', check(s.p50, '<=', 3) + missBy(s.p50, 3));
    add(fig, 'added TTFT p95 / p99', `${f1(s.p95, 2)} / ${f1(s.p99, 2)} ms`, '—', '');
    add(fig, 'direct TTFT p50 (baseline, SDK)', `${f1(s.a50)} ms`, '—', '');
    add(fig, 'failed or wrong streams', `${s.errors.length}`, '0', s.errors.length ? '❌' : '✅');
  }
  const fb = M.fallback;
  if (fb) {
    const fig = '7 fallback (refused connection)';
    add(fig, 'added TTFT p50 over the fallback model asked directly', `${f1(fb.p50, 2)} ms`, '≤ 5 ms', check(fb.p50, '<=', 5) + missBy(fb.p50, 5));
    add(fig, 'added TTFT p95 / p99', `${f1(fb.p95, 2)} / ${f1(fb.p99, 2)} ms`, '—', '');
    add(fig, "the primary's SDK alone failing on the closed port, p50", `${f1(fb.refusal?.p50, 2)} ms`, '—', '');
    const allFellBack = fb.fallbacks === fb.primaryStreams && !fb.errors.length;
    add(
      fig,
      'fallbacks counted / streams asking for the primary; failed streams',
      `${fb.fallbacks} / ${fb.primaryStreams}; ${fb.errors.length}`,
      'all; 0',
      allFellBack ? '✅' : '❌',
    );
  }
  const fit = M.fitting;
  if (fit) {
    const fig = '7 context fitting, POST /ai/chat';
    add(fig, `added latency p50 (${FIT.historyLimit}-message history)`, `${f1(fit.p50, 2)} ms`, '≤ 0.5 ms', check(fit.p50, '<=', 0.5) + missBy(fit.p50, 0.5));
    add(fig, 'added latency p95 / p99', `${f1(fit.p95, 2)} / ${f1(fit.p99, 2)} ms`, '—', '');
    const control = fit.controls?.[0];
    if (control) add(fig, 'A/A control (both not fitted), "added" p50', `${f1(control.p50, 2)} ms`, '—', '');
    const alone = fit.alone ?? {};
    add(fig, 'fitting alone, warm / first call', alone.error ? 'n/a' : `${f1(alone.warmUs, 2)} / ${f1(alone.firstCallUs, 0)} µs`, '—', '');
    const up = fit.upstreamMessages ?? {};
    const same =
      up.fit && up.noFit && up.fit.minMessages === up.fit.maxMessages && up.fit.minMessages === up.noFit.minMessages && up.noFit.minMessages === up.noFit.maxMessages;
    add(
      fig,
      'messages sent upstream, fitted / not fitted',
      `${messagesText(up.fit)} / ${messagesText(up.noFit)}`,
      `${FIT.historyLimit + 1} both`,
      same && up.fit.minMessages === FIT.historyLimit + 1 ? '✅' : '❌',
    );
    add(fig, 'failed turns', `${fit.errors.length}`, '0', fit.errors.length ? '❌' : '✅');
  }
}

export function modelsDetails(F) {
  const M = F.models;
  if (!M) return '';
  const lines = ['### 7. Models and providers', ''];
  lines.push(
    `Each part runs on a service instance of its own, with an \`AI_MODELS_FILE\` written to the work directory (the default chat and embedding models plus the part's models). Fake profile: first token after ${M.ttftMs} ms, ${M.chunks} chunks one every ${M.cadenceMs} ms; non-streaming answers at once (context fitting). "Added" is percentile(B) − percentile(A) within a round, median over rounds.`,
    '',
  );
  if (M.providers) {
    lines.push(
      '**Anthropic and Gemini adapters.** `ANTHROPIC_BASE_URL` and `GEMINI_BASE_URL` point at the fake, which speaks their streaming APIs (Anthropic: named SSE events message_start … message_stop; Gemini: `streamGenerateContent?alt=sse`). A: the same client calling the fake with `@anthropic-ai/sdk` (`messages.create({ stream: true })`) or `@google/genai` (`models.generateContentStream`, `httpOptions.baseUrl`, the platform fetch, as the service sets it up); B: `chat:start` over `/ai` naming the registry model, one conversation per provider (so B also reads up to 10 history messages and turns them into alternating turns). The OpenAI adapter is measured the same way on the same instance for reference (A: the `openai` SDK). Every answer is checked for its exact text and for the answering model in `chat:end`.',
      '',
      '| provider | model | added TTFT p50 / p95 / p99 | direct TTFT p50 | through the service p50 | streams per side × rounds | failed |',
      '|---|---|---|---|---|---|---|',
    );
    for (const [kind, p] of Object.entries(PROVIDERS)) {
      const s = M.providers[kind];
      if (!s) continue;
      lines.push(
        `| ${p.label}${kind === 'openai' ? ' (reference)' : ''} | \`${s.model}\` | ${f1(s.p50, 2)} / ${f1(s.p95, 2)} / ${f1(s.p99, 2)} ms | ${f1(s.a50, 1)} ms | ${f1(s.b50, 1)} ms | ${s.rounds[0]?.n ?? 0} × ${s.rounds.length} | ${s.errors.length} |`,
      );
    }
    lines.push('');
  }
  const fb = M.fallback;
  if (fb) {
    lines.push(
      `**Fallback penalty.** Registry model \`${FALLBACK.primary}\` (provider anthropic, \`ANTHROPIC_BASE_URL=http://127.0.0.1:${fb.closedPort}\`, a port nothing listens on) with \`fallbacks: [${fb.fallbackModel}]\`. B: streams asking for \`${FALLBACK.primary}\`, whose connection is refused, so the service falls back and \`${fb.fallbackModel}\` answers; A: streams asking for \`${fb.fallbackModel}\` directly; same socket and conversation, ABBA. The instance runs with \`OPENAI_MAX_RETRIES=0\` (as every bench instance does): that setting is every provider SDK's retry count, and above 0 the Anthropic SDK would retry the refused connection with back-off (0.375–0.5 s before the first retry, doubling after) before the service could fall back. \`ai_fallbacks_total\` rose by ${fb.fallbacks} for the ${fb.primaryStreams} streams that asked for the primary (warm-up included); every answer named \`${fb.fallbackModel}\` in \`chat:end\`${fb.errors.length ? ` but ${fb.errors.length} failed` : ''}.`,
      '',
      `Added TTFT p50 / p95 / p99: ${f1(fb.p50, 2)} / ${f1(fb.p95, 2)} / ${f1(fb.p99, 2)} ms over the fallback model's own TTFT (p50 ${f1(fb.a50, 1)} ms; through the fallback ${f1(fb.b50, 1)} ms). Of that, \`@anthropic-ai/sdk\` alone (same options, in the bench process) takes ${f1(fb.refusal?.p50, 2)} ms p50 to throw on the refused connection.`,
      '',
    );
  }
  const fit = M.fitting;
  if (fit) {
    const up = fit.upstreamMessages ?? {};
    const alone = fit.alone ?? {};
    lines.push(
      `**Context fitting.** \`AI_HISTORY_LIMIT=${FIT.historyLimit}\`; one conversation of ${FIT.seedTurns * 2} messages built through \`POST /ai/chat\` (so every message stores its \`contentTokens\` as the service counts them), then continued turn after turn, ABBA: B names \`${FIT.fit}\` (context window ${fit.contextWindow?.fit ?? 'n/a'} in \`GET /ai/models\`: the history is fitted), A names \`${FIT.noFit}\` (context window ${fit.contextWindow?.noFit ?? 'null'}: fitting skipped); both are OpenAI models on the same fake with the same output limit and prices, differing only in their upstream name. The fake answers these at once (its latency is the same on both sides and would only add timer jitter). Each turn reads the newest ${FIT.historyLimit} messages and nothing is cut, so both send the same prompt: ${messagesText(up.fit)} messages upstream fitted, ${messagesText(up.noFit)} not fitted (the fake's count per upstream model).`,
      '',
      `Added latency of \`POST /ai/chat\` p50 / p95 / p99: ${f1(fit.p50, 2)} / ${f1(fit.p95, 2)} / ${f1(fit.p99, 2)} ms (not fitted p50 ${f1(fit.a50, 2)} ms, fitted ${f1(fit.b50, 2)} ms; ${fit.rounds[0]?.n ?? 0} turns per side × ${fit.rounds.length} rounds); per round: ${fit.rounds.map((r) => f1(r.p50, 2)).join(', ')} ms. Its quads took turns with those of an A/A control (\`${FIT.noFit}\` vs \`${FIT.noFit2}\`, neither fitted): "added" p50 ${f1(fit.controls?.[0]?.p50, 2)} ms, per round ${(fit.controls?.[0]?.rounds ?? []).map((r) => f1(r.p50, 2)).join(', ')} ms — the noise the end-to-end figure sits in. ` +
        (alone.error
          ? `The fitting alone could not be timed (${alone.error}).`
          : `The fitting alone (\`ChatTurnRunner.fitToContext\` of this build over ${alone.messages} messages, in a process of its own) takes ${f1(alone.warmUs, 2)} µs a call once warm (${f1(alone.skippedUs, 3)} µs when skipped) and ${f1(alone.firstCallUs, 0)} µs on its first call.`),
      '',
    );
  }
  return lines.join('\n');
}

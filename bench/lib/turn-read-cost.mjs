// The chat turn's first read (ChatTurnRepository.findTurnContext: budget, ownership, history) timed
// as a build runs it — on the service's own PrismaService pool (a named prepared statement), for a
// real user and conversation — alone (as a turn without moderation waits for it) and beside a
// moderation call through the build's OpenAiProvider, started a microtask later, as
// ChatTurnRunner.prepare starts the two. Also the moderation call alone with the fake answering at
// once: what the SDK and the local round trip cost per call. In a process of its own, so that the
// bench's event loop does not pad the timings.
//   node bench/lib/turn-read-cost.mjs <dist dir> '<json: databaseUrl, fakeUrl, userId, conversationId,
//        historyLimit, moderationDelayMs, calls>'   → one JSON line (or { error })
// Figure 8 runs it with the figure's instances stopped.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { distExports } from './dist-exports.mjs';
import { percentile } from './stats.mjs';

const [dist, argsJson] = process.argv.slice(2);
const args = JSON.parse(argsJson);
const MESSAGE = '[read] Tell me about the weather on Mars in a few sentences.';
const config = (values) => ({ get: (key) => values[key] });
const setModerationDelay = (ms) =>
  fetch(`${args.fakeUrl.replace(/\/v1$/, '')}/_bench/config`, { method: 'POST', body: JSON.stringify({ moderationDelayMs: ms }) }).then((res) => res.json());
const summary = (values) => ({ p50: percentile(values, 50), p95: percentile(values, 95), n: values.length });

let prisma;
try {
  const build = distExports(path.resolve(dist));
  prisma = new (build.load('PrismaService'))(config({ DATABASE_URL: args.databaseUrl }));
  const budget = new (build.load('BudgetService'))(new (build.load('BudgetRepository'))(prisma));
  const turns = new (build.load('ChatTurnRepository'))(prisma);
  // The service's own moderation call (the recorder is not used by it).
  const provider = new (build.load('OpenAiProvider'))(
    config({ OPENAI_API_KEY: 'sk-bench-0123456789', OPENAI_BASE_URL: args.fakeUrl, OPENAI_TIMEOUT_MS: 120_000, OPENAI_MAX_RETRIES: 0 }),
    null,
  );
  const read = () => turns.findTurnContext(args.conversationId, args.userId, args.historyLimit, budget.standingOf(args.userId));
  const moderate = () => provider.moderate(MESSAGE, 'omni-moderation-latest', 5_000);

  let t0 = performance.now();
  const context = await read();
  const firstCallMs = performance.now() - t0;
  if (!context?.conversationFound || !context.withinBudget) throw new Error(`unexpected turn context: ${JSON.stringify(context)?.slice(0, 200)}`);
  await setModerationDelay(args.moderationDelayMs);
  for (let i = 0; i < 20; i++) await read();
  for (let i = 0; i < 10; i++) await moderate();

  const alone = [];
  const beside = [];
  const moderation = [];
  const both = [];
  for (let i = 0; i < args.calls; i++) {
    t0 = performance.now();
    await read();
    alone.push(performance.now() - t0);
    let readMs = NaN;
    let moderationMs = NaN;
    t0 = performance.now();
    const reading = read().then(() => (readMs = performance.now() - t0));
    const moderating = Promise.resolve().then(() => moderate().then(() => (moderationMs = performance.now() - t0)));
    await Promise.all([reading, moderating]);
    both.push(performance.now() - t0);
    beside.push(readMs);
    moderation.push(moderationMs);
  }

  await setModerationDelay(0);
  const atOnce = [];
  for (let i = 0; i < 10; i++) await moderate();
  for (let i = 0; i < args.calls; i++) {
    t0 = performance.now();
    await moderate();
    atOnce.push(performance.now() - t0);
  }
  await setModerationDelay(args.moderationDelayMs);

  process.stdout.write(
    `${JSON.stringify({
      historyRows: context.history.length,
      firstCallMs,
      readAlone: summary(alone),
      readBeside: summary(beside),
      moderation: summary(moderation),
      both: summary(both),
      moderationAtOnce: summary(atOnce),
    })}\n`,
  );
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: String(error?.message ?? error) })}\n`);
} finally {
  await prisma?.$disconnect().catch(() => undefined);
}

// CPU of the service's context fitting alone (ChatTurnRunner's fitToContext over a 50-message
// history with stored token counts, a model with a context window vs one without), timed in a
// process of its own so that the bench does not load the service's module graph.
//   node bench/lib/fit-cost.mjs <dist dir> [messages]   → one JSON line
// Figure 7 runs it; it prints { error } when the build has no such method.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { distExports } from './dist-exports.mjs';

const [dist, count = '50'] = process.argv.slice(2);
const n = Number(count);
const history = Array.from({ length: n }, (_, i) => ({
  id: `m${i}`,
  role: i % 2 ? 'ASSISTANT' : 'USER',
  content: `Message ${i} of the history, about as long as a short chat line or two.`,
  status: 'complete',
  contentTokens: i % 2 ? 40 : 15,
}));
// Only what fitToContext reads of the runner: the configuration (no system prompt).
const runner = { config: { get: () => undefined } };
const model = (contextWindow) => ({
  id: 'bench',
  provider: 'openai',
  upstreamModel: 'bench',
  contextWindow,
  maxOutputTokens: 16_384,
  pricing: null,
  capabilities: ['chat'],
  fallbacks: [],
});

function time(fit, target, calls) {
  const t0 = performance.now();
  let kept = 0;
  for (let i = 0; i < calls; i++) kept += fit.call(runner, history, [], 15, target, 4096).length;
  return { usPerCall: ((performance.now() - t0) * 1000) / calls, kept: kept / calls };
}

try {
  const fit = distExports(path.resolve(dist)).load('ChatTurnRunner').prototype.fitToContext;
  if (typeof fit !== 'function') throw new Error('ChatTurnRunner has no fitToContext');
  const fitted = model(128_000);
  const first = time(fit, fitted, 1);
  time(fit, fitted, 20_000);
  time(fit, model(null), 20_000);
  const warm = time(fit, fitted, 200_000);
  const skipped = time(fit, model(null), 200_000);
  process.stdout.write(`${JSON.stringify({ messages: n, firstCallUs: first.usPerCall, warmUs: warm.usPerCall, skippedUs: skipped.usPerCall, kept: warm.kept })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: String(error?.message ?? error) })}\n`);
}

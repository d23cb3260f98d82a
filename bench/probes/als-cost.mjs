// Probe: what an active AsyncLocalStorage costs the streaming hot path on this Node version.
// nestjs-pino runs every HTTP request inside an AsyncLocalStorage; on Node 20 that turns on
// async_hooks promise hooks for every promise of the process (sockets included), and each relayed
// chunk crosses several async-generator hops (the SSE reader → OpenAiProvider's stream → LlmService →
// ChatTurnRunner → ChatStreamService). The ALS can only be turned on, not off: the script measures before, then after.
//   node bench/probes/als-cost.mjs
import { AsyncLocalStorage } from 'node:async_hooks';

async function* source(n) {
  for (let i = 0; i < n; i++) yield { choices: [{ delta: { content: ' t' } }] };
}
async function* relay(n) {
  for await (const chunk of source(n)) yield { type: 'delta', content: chunk.choices[0].delta.content };
}
async function consume(n) {
  let text = '';
  for await (const event of relay(n)) text += event.content;
  return text.length;
}
async function measure(label) {
  const n = 300_000;
  await consume(20_000);
  const t = process.hrtime.bigint();
  await consume(n);
  console.log(`${label}: ${(Number(process.hrtime.bigint() - t) / n).toFixed(0)} ns per chunk through 3 async-generator hops`);
}
await measure('no AsyncLocalStorage   ');
await measure('no AsyncLocalStorage   ');
const als = new AsyncLocalStorage();
await als.run({ requestId: 'x' }, async () => undefined);
await measure(`ALS enabled (${process.version})`);
await measure(`ALS enabled (${process.version})`);

// Probe: CPU per chunk and per stream of a streaming client (this process) against the fake, at
// several cadences — the wake-up cost of one chunk on this machine, without the service — for the
// ways to read the same stream:
// - the openai SDK's Stream (four nested async generators, a line decoder, an abort race per read);
// - the SDK for the request (`.asResponse()`: auth, retries, timeout, non-2xx → APIError) and the
//   service's own reader for the body (readCompletionChunks from dist/: one `for await` into
//   eventsource-parser) — what OpenAiProvider's stream does;
// - fetch + SSE loop and node:http + SSE loop: no SDK at all (the floor).
// Needs a build (dist/) and a fake upstream:
//   node bench/fake-upstream.mjs --port 0    # prints its url
//   node bench/probes/sdk-per-chunk.mjs <fakeOrigin> [streams] [cadences, e.g. 0,1,10] [rounds]
// Each round runs every client at every cadence; the rounds alternate the clients' order (ABBA).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerText } from '../lib/answer.mjs';
import { createDirectClient, streamDirectHttp, streamDirectSdk, streamDirectSse } from '../lib/clients.mjs';
import { distExports } from '../lib/dist-exports.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readCompletionChunks = distExports(path.join(ROOT, process.env.BENCH_DIST ?? 'dist')).load('readCompletionChunks');
const [origin, streamsArg = '10', cadencesArg = '0,1,10', roundsArg = '2'] = process.argv.slice(2);
const client = createDirectClient(`${origin}/v1`);
const setProfile = (p) => fetch(`${origin}/_bench/config`, { method: 'POST', body: JSON.stringify(p) });
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const STREAM_PARAMS = { max_tokens: 4096, temperature: 0.7, stream: true, stream_options: { include_usage: true } };

async function streamSdkParser({ model, message, expected }) {
  let text = '';
  try {
    const response = await client.chat.completions.create({ model, messages: [{ role: 'user', content: message }], ...STREAM_PARAMS }).asResponse();
    for await (const chunk of readCompletionChunks(response, new AbortController().signal)) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) text += delta;
    }
    const ok = expected === undefined || text === expected;
    return { ok, error: ok ? null : 'text mismatch' };
  } catch (error) {
    return { ok: false, error: String(error?.message ?? error) };
  }
}

const clients = {
  'openai SDK             ': (args) => streamDirectSdk(client, args),
  'SDK + service reader   ': streamSdkParser,
  'fetch + SSE loop       ': (args) => streamDirectSse(`${origin}/v1`, args),
  'node:http + SSE loop   ': (args) => streamDirectHttp(`${origin}/v1`, args),
};

async function measure(run, cadenceMs, streams) {
  const per = {};
  for (const chunks of [2, 200]) {
    await setProfile({ ttftMs: 1, chunks, cadenceMs });
    for (let i = 0; i < 3; i++) await run({ model: 'm', message: `[w${i}] hi`, expected: answerText(`w${i}`, chunks) });
    const c0 = cpu();
    for (let i = 0; i < streams; i++) {
      const r = await run({ model: 'm', message: `[s${i}] hi`, expected: answerText(`s${i}`, chunks) });
      if (!r.ok) throw new Error(r.error);
    }
    per[chunks] = (cpu() - c0) / streams;
  }
  return { perStream: per[2], perChunkUs: ((per[200] - per[2]) / 198) * 1000 };
}

const cadences = cadencesArg.split(',').map(Number);
const results = new Map();
for (let round = 0; round < Number(roundsArg); round++) {
  const order = round % 2 === 0 ? Object.keys(clients) : Object.keys(clients).reverse();
  for (const cadenceMs of cadences) {
    for (const name of order) {
      const r = await measure(clients[name], cadenceMs, Number(streamsArg));
      const key = `${name} cadence ${String(cadenceMs).padStart(2)} ms`;
      results.set(key, [...(results.get(key) ?? []), r]);
      console.log(`round ${round + 1} ${key}: ${r.perStream.toFixed(2)} ms CPU per 2-chunk stream, ${r.perChunkUs.toFixed(0)} µs CPU per extra chunk`);
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log('\nmedians over rounds (lower median):');
for (const [key, rs] of [...results].sort()) {
  console.log(`${key}: ${median(rs.map((r) => r.perStream)).toFixed(2)} ms per stream, ${median(rs.map((r) => r.perChunkUs)).toFixed(0)} µs per chunk`);
}
process.exit(0);

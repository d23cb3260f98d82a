// Probe: what one moderation call costs a client beyond the upstream's own latency, and how much of
// that is the openai SDK. Starts the lean fake upstream and times POST /v1/moderations through
// node:http (keep-alive agent), fetch and the openai SDK (as the service sets it up), taking turns,
// with the fake answering at once and after each given delay; also how late the fake's timer fired.
//   node bench/probes/moderation-call.mjs [calls per client per delay] [delays, ms: 0,30]
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { percentile } from '../lib/stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const calls = Number(process.argv[2] ?? 200);
const delays = (process.argv[3] ?? '0,30').split(',').map(Number);

const fake = spawn(process.execPath, ['-r', path.join(ROOT, 'bench/lib/child-preload.cjs'), path.join(ROOT, 'bench/fake-upstream.mjs')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve) => fake.stdout.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0]).url)));
const origin = url.replace(/\/v1$/, '');

const input = '[probe] Tell me about the weather on Mars in a few sentences.';
const body = JSON.stringify({ model: 'omni-moderation-latest', input });
const agent = new http.Agent({ keepAlive: true });
const sdk = new OpenAI({ apiKey: 'sk-probe', baseURL: url, maxRetries: 0, timeout: 120_000 });
const clients = {
  'node:http': () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        `${url}/moderations`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const parts = [];
          res.on('data', (part) => parts.push(part));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(parts).toString('utf8'))));
        },
      );
      req.on('error', reject);
      req.end(body);
    }),
  fetch: async () => (await fetch(`${url}/moderations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json(),
  'openai SDK': () => sdk.moderations.create({ model: 'omni-moderation-latest', input }, { timeout: 5_000 }),
};
const fakeStats = async () => (await fetch(`${origin}/_bench/stats`)).json();

console.log(`POST /v1/moderations round trip, p50 / p95 ms (${calls} calls per client, taking turns)`);
for (const delay of delays) {
  await fetch(`${origin}/_bench/config`, { method: 'POST', body: JSON.stringify({ moderationDelayMs: delay }) });
  for (let i = 0; i < 20; i++) for (const call of Object.values(clients)) await call();
  const times = Object.fromEntries(Object.keys(clients).map((name) => [name, []]));
  const before = await fakeStats();
  for (let i = 0; i < calls; i++) {
    for (const [name, call] of Object.entries(clients)) {
      const t0 = performance.now();
      await call();
      times[name].push(performance.now() - t0);
    }
  }
  const after = await fakeStats();
  const late = (after.moderationLateMs - before.moderationLateMs) / (after.moderations - before.moderations);
  console.log(`  fake at ${delay} ms (its timer ${late.toFixed(2)} ms late on average)`);
  for (const [name, values] of Object.entries(times)) console.log(`    ${name.padEnd(12)} ${percentile(values, 50).toFixed(2)} / ${percentile(values, 95).toFixed(2)}`);
}
agent.destroy();
fake.kill();

// Probe: CPU per chunk of a plain openai-SDK streaming client (this process) against the fake,
// at several cadences — the wake-up cost of one chunk on this machine, without the service —
// and the same with fetch + a minimal SSE parser (what a lean OpenAiService.streamCompletion would do).
//   node bench/tools/sdk-per-chunk.mjs <fakeOrigin> [streams]
import { createDirectClient, streamDirectHttp, streamDirectSdk, streamDirectSse } from '../lib/clients.mjs';
import { answerText } from '../lib/answer.mjs';
const [origin, streamsArg = '10'] = process.argv.slice(2);
const client = createDirectClient(`${origin}/v1`);
const setProfile = (p) => fetch(`${origin}/_bench/config`, { method: 'POST', body: JSON.stringify(p) });
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const clients = {
  'openai SDK      ': (args) => streamDirectSdk(client, args),
  'fetch + SSE loop': (args) => streamDirectSse(`${origin}/v1`, args),
  'node:http + SSE  ': (args) => streamDirectHttp(`${origin}/v1`, args),
};
for (const cadenceMs of [0, 0, 10]) {
  for (const [name, run] of Object.entries(clients)) {
    const per = {};
    for (const chunks of [2, 200]) {
      await setProfile({ ttftMs: 1, chunks, cadenceMs });
      for (let i = 0; i < 3; i++) await run({ model: 'm', message: `[w${i}] hi`, expected: answerText(`w${i}`, chunks) });
      const c0 = cpu();
      for (let i = 0; i < Number(streamsArg); i++) {
        const r = await run({ model: 'm', message: `[s${i}] hi`, expected: answerText(`s${i}`, chunks) });
        if (!r.ok) throw new Error(r.error);
      }
      per[chunks] = (cpu() - c0) / Number(streamsArg);
    }
    console.log(`${name} cadence ${String(cadenceMs).padStart(2)} ms: ${per[2].toFixed(2)} ms CPU per 2-chunk stream, ${(((per[200] - per[2]) / 198) * 1000).toFixed(0)} µs CPU per extra chunk`);
  }
}
process.exit(0);

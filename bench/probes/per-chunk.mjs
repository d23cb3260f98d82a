// Ad-hoc probe (not part of npm run bench): service CPU per stream and per chunk, one socket,
// sequential streams, against an already running service + fake upstream.
//   node bench/probes/per-chunk.mjs <serviceBase> <fakeOrigin> <servicePid> <token> [streams] [cadenceMs]
import { connectSocket, streamViaSocket } from '../lib/clients.mjs';
import { answerText } from '../lib/answer.mjs';
import { cpuMs, cpuSplitMs } from '../lib/proc.mjs';
const [base, fakeOrigin, pid, token, streamsArg = '20', cadenceArg = '1'] = process.argv.slice(2);
const streams = Number(streamsArg);
const socket = await connectSocket(base, token);
const setProfile = (p) => fetch(`${fakeOrigin}/_bench/config`, { method: 'POST', body: JSON.stringify(p) });
const measure = async (chunks) => {
  await setProfile({ ttftMs: 1, chunks, cadenceMs: Number(cadenceArg) });
  for (let i = 0; i < 3; i++) await streamViaSocket(socket, { message: `[w${chunks}_${i}] hi`, expected: answerText(`w${chunks}_${i}`, chunks) });
  const c0 = cpuMs(Number(pid));
  const s0 = cpuSplitMs(Number(pid));
  const t0 = performance.now();
  let ok = 0;
  let ttft = 0;
  for (let i = 0; i < streams; i++) {
    const r = await streamViaSocket(socket, { message: `[m${chunks}_${i}] hi`, expected: answerText(`m${chunks}_${i}`, chunks) });
    ok += r.ok ? 1 : 0;
    ttft += r.ttft;
  }
  const s1 = cpuSplitMs(Number(pid));
  return {
    chunks,
    ok,
    userPerStream: (s1.user - s0.user) / streams,
    sysPerStream: (s1.system - s0.system) / streams,
    cpuPerStream: (cpuMs(Number(pid)) - c0) / streams,
    ttft: ttft / streams,
    wall: (performance.now() - t0) / streams,
  };
};
const small = await measure(2);
const big = await measure(400);
console.log(JSON.stringify({ small, big, perChunkUs: ((big.cpuPerStream - small.cpuPerStream) / 398) * 1000 }));
socket.close();
process.exit(0);

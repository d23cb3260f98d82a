// Figure 4: GET /ai/conversations for a user with 1,000 conversations / 100,000 messages, c=50.
import { log } from '../lib/children.mjs';
import { autocannon, medianOf } from '../lib/load.mjs';
import { cpuMs } from '../lib/proc.mjs';
import { check, f1, missBy } from '../lib/format.mjs';
import { sum } from '../lib/stats.mjs';

export const listUrl = (base) => `${base}/api/v1/ai/conversations?page=1&limit=20`;

export async function figureList(ctx, service, listUser) {
  const { sizes } = ctx.opts;
  const url = listUrl(service.base);
  const answer = await fetch(url, { headers: { authorization: `Bearer ${listUser.token}` } }).then((r) => r.json());
  if (answer?.meta?.total !== 1000 || answer?.data?.length !== 20 || answer.data[0].messageCount !== 100) {
    throw new Error(`fig 4: unexpected list answer: ${JSON.stringify(answer).slice(0, 300)}`);
  }
  autocannon(url, listUser.token, sizes.listWarm);
  const rounds = [];
  for (let r = 0; r < sizes.listRounds; r++) {
    const cpu0 = cpuMs(service.pid);
    const res = autocannon(url, listUser.token, sizes.listSecs);
    res.cpuMsPerReq = (cpuMs(service.pid) - cpu0) / Math.max(1, res.total);
    rounds.push(res);
    log(
      `fig 4 round ${r + 1}: ${Math.round(res.rps)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, non-2xx ${res.non2xx}, errors ${res.errors}, service CPU ${res.cpuMsPerReq.toFixed(3)} ms/req`,
    );
  }
  ctx.results.figures.list = {
    rps: medianOf(rounds, 'rps'),
    p50: medianOf(rounds, 'p50'),
    p99: medianOf(rounds, 'p99'),
    non2xx: sum(rounds.map((r) => r.non2xx)),
    errors: sum(rounds.map((r) => r.errors)),
    cpuMsPerReq: medianOf(rounds, 'cpuMsPerReq'),
    rounds,
  };
}

export function listRows(F, add) {
  if (!F.list) return;
  const L = F.list;
  add(
    '4 GET /ai/conversations, c=50',
    'throughput',
    `${Math.round(L.rps)} req/s`,
    '≥ 2,500 req/s',
    L.rps >= 2500 ? '✅' : `❌ (short by ${Math.round(2500 - L.rps)} req/s, ${f1((1 - L.rps / 2500) * 100)}%)`,
  );
  add('4 GET /ai/conversations, c=50', 'latency p50 / p99', `${f1(L.p50)} / ${f1(L.p99)} ms`, 'p99 ≤ 40 ms', check(L.p99, '<=', 40) + missBy(L.p99, 40));
  add(
    '4 GET /ai/conversations, c=50',
    'non-2xx / errors; service CPU per request',
    `${L.non2xx} / ${L.errors}; ${f1(L.cpuMsPerReq, 3)} ms`,
    '0',
    L.non2xx + L.errors === 0 ? '✅' : '❌',
  );
}

export function listDetails(F) {
  if (!F.list) return '';
  return `### Conversation list rounds\n\n${F.list.rounds.map((r, i) => `- round ${i + 1}: ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, service CPU ${f1(r.cpuMsPerReq, 3)} ms/request`).join('\n')}\n`;
}

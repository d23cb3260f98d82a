// Inclusive ("total") time of functions in a V8 .cpuprofile: the share of busy samples with the
// function anywhere on the stack (counted once per sample, so recursion does not double it).
// profile-summary.mjs ranks self time; this answers "what does the JWT guard cost, callees
// included" for the request pipeline of the conversation list.
//   node bench/probes/profile-inclusive.mjs <file.cpuprofile> [--busiest <s>] [pattern ...]
// A pattern matches "functionName  url" (regular expression); without patterns it prints the 40
// functions with the most inclusive time. --busiest keeps only the busiest <s>-second stretch of the
// profile (the load window, leaving out boot and the warm-up), as the bench's own window would.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const busiestAt = args.indexOf('--busiest');
const windowSecs = busiestAt >= 0 ? Number(args.splice(busiestAt, 2)[1]) : 0;
const [file, ...patterns] = args;
if (!file) {
  console.error('usage: node bench/probes/profile-inclusive.mjs <file.cpuprofile> [pattern ...]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n) => {
  const f = n.callFrame;
  const url = f.url.includes('node_modules/') ? f.url.slice(f.url.lastIndexOf('node_modules/') + 13) : f.url.replace(/^.*\/dist\//, 'dist/');
  return `${f.functionName || '(anonymous)'}  ${url}${f.url ? `:${f.lineNumber + 1}` : ''}`;
};

const isIdle = (id) => ['(idle)', '(program)'].includes(byId.get(id).callFrame.functionName);
const times = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) times.push((t += d));
let [from, to] = [-Infinity, Infinity];
if (windowSecs > 0) {
  // Sliding window over the samples: the stretch of windowSecs with the most non-idle time.
  let [best, sum, lo] = [-1, 0, 0];
  for (let hi = 0; hi < times.length; hi++) {
    if (!isIdle(profile.samples[hi])) sum += profile.timeDeltas[hi];
    while (times[hi] - times[lo] > windowSecs * 1e6) if (!isIdle(profile.samples[lo++])) sum -= profile.timeDeltas[lo - 1];
    if (sum > best) [best, from, to] = [sum, times[lo], times[hi]];
  }
}
const selfUs = new Map();
let windowUs = 0;
profile.samples.forEach((id, i) => {
  if (times[i] < from || times[i] > to) return;
  windowUs += profile.timeDeltas[i] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
let busy = 0;
const inclusive = new Map();
for (const [id, us] of selfUs) {
  if (isIdle(id)) continue;
  busy += us;
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const key = label(byId.get(at));
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
console.log(`busy ${Math.round(busy / 1000)} ms of ${Math.round(windowUs / 1000)} ms (idle and (program) left out)`);
if (patterns.length === 0) {
  for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${pct(us)}  ${k}`);
} else {
  for (const p of patterns) {
    const re = new RegExp(p);
    const hits = [...inclusive].filter(([k]) => re.test(k)).sort((a, b) => b[1] - a[1]);
    // Functions matched by one pattern may nest (a calls b): sum samples, not functions.
    let us = 0;
    for (const [id, self] of selfUs) {
      if (isIdle(id)) continue;
      for (let at = id; at !== undefined; at = parent.get(at)) {
        if (re.test(label(byId.get(at)))) {
          us += self;
          break;
        }
      }
    }
    console.log(
      `${pct(us)}  /${p}/  (${hits
        .slice(0, 3)
        .map(([k]) => k)
        .join(' | ')})`,
    );
  }
}

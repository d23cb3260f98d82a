// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per package.
//   node bench/profile-summary.mjs /tmp/x.cpuprofile [--top 20] [--from <s> --to <s>]
import { readFileSync } from 'node:fs';

// `window` ({ fromUs, toUs } on the monotonic clock, as process.hrtime.bigint() / 1000n in any
// process of this machine) keeps only the samples taken under load, leaving out boot and idle.
export function summarizeProfile(file, top = 20, window = null) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byPackage = new Map();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { callFrame: f } = byId.get(id);
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = shortUrl(f.url);
    const key = `${f.functionName || '(anonymous)'}  ${where}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const pkg = packageOf(f);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pctOfBusy: Math.round((us / busy) * 1000) / 10 }));
  return { totalMs: Math.round(total / 1000), busyMs: Math.round(busy / 1000), functions: rank(byFunction), packages: rank(byPackage) };
}

// The bench runs the service from a snapshot under node_modules/.cache/ai-bench-dist/<pid>/dist.
const APP_SNAPSHOT = /\/node_modules\/\.cache\/ai-bench[^/]*\/(?:\d+\/)?dist\//;

function shortUrl(url) {
  if (!url) return '';
  if (APP_SNAPSHOT.test(url)) return `dist/${url.split(APP_SNAPSHOT)[1]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function packageOf(f) {
  const url = f.url;
  if (!url) return f.functionName.startsWith('(') ? f.functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node: core';
  if (APP_SNAPSHOT.test(url)) return 'app (dist/)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.includes('/dist/')) return 'app (dist/)';
  return url;
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const file = process.argv[2];
  const arg = (name) => (process.argv.indexOf(name) > 0 ? Number(process.argv[process.argv.indexOf(name) + 1]) : undefined);
  // --from/--to: seconds after the profile's start (e.g. to skip boot).
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const window = arg('--from') !== undefined ? { fromUs: p.startTime + arg('--from') * 1e6, toUs: p.startTime + (arg('--to') ?? 1e9) * 1e6 } : null;
  const summary = summarizeProfile(file, arg('--top') ?? 20, window);
  console.log(`total ${summary.totalMs} ms, busy (not idle) ${summary.busyMs} ms`);
  console.log('\nself time by package:');
  for (const p of summary.packages) console.log(`  ${String(p.pctOfBusy).padStart(5)}%  ${String(p.ms).padStart(6)} ms  ${p.name}`);
  console.log('\nself time by function:');
  for (const f of summary.functions) console.log(`  ${String(f.pctOfBusy).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.name}`);
}

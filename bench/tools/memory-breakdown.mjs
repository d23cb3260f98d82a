// Probe: where a running service's resident memory goes after a full GC: V8 heap by space, and RSS by
// kind of mapping (file-backed pages, glibc's main and per-thread malloc arenas, other anonymous
// mappings: V8 pages, WebAssembly code and memory, stacks). Start an instance with its inspector:
//   npm run bench -- --serve --service-node-args --inspect=127.0.0.1:9339
//   node bench/tools/memory-breakdown.mjs [inspectPort=9339]
// Attaching the inspector adds up to ~4 MB (its thread's malloc arena); bench figure 6 also reads RSS
// with no inspector. Free memory that glibc keeps in its arenas counts in RSS: after boot, the thread
// arenas mostly hold what V8's background compilers freed (Prisma's query-compiler WebAssembly).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { connectInspector } from '../lib/inspector.mjs';

const ARENA_ALIGN = 64 * 1024 * 1024;

// RSS of `pid` in MB by kind of mapping, from /proc/<pid>/smaps. glibc's thread arenas are its
// 64 MB-aligned anonymous heaps.
export function smapsBreakdownMb(pid) {
  const out = { rss: 0, fileBacked: 0, mainArena: 0, threadArenas: 0, otherAnon: 0, arenas: [] };
  let current = null;
  const flush = () => {
    if (!current?.rss) return;
    out.rss += current.rss;
    if (current.name.startsWith('/')) out.fileBacked += current.rss;
    else if (current.name === '[heap]') out.mainArena += current.rss;
    else if (!current.name && current.perm === 'rw-p' && current.start % ARENA_ALIGN === 0 && current.size <= ARENA_ALIGN) {
      out.threadArenas += current.rss;
      out.arenas.push(Math.round(current.rss / 102.4) / 10);
    } else out.otherAnon += current.rss;
  };
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const map = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (map) {
      flush();
      const start = Number.parseInt(map[1], 16);
      current = { start, size: Number.parseInt(map[2], 16) - start, perm: map[3], name: map[4], rss: 0 };
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) current.rss = Number(rss[1]);
  }
  flush();
  for (const key of ['rss', 'fileBacked', 'mainArena', 'threadArenas', 'otherAnon']) out[key] /= 1024;
  return out;
}

export function formatBreakdown(b) {
  const f = (n) => n.toFixed(1);
  return `RSS ${f(b.rss)} MB = file-backed ${f(b.fileBacked)} + malloc main arena ${f(b.mainArena)} + thread arenas ${f(b.threadArenas)} [${b.arenas.join(', ')}] + other anonymous (V8 heap, wasm, stacks) ${f(b.otherAnon)}`;
}

async function main() {
  const port = Number(process.argv[2] ?? 9339);
  const inspector = await connectInspector(port);
  try {
    const pid = await inspector.evaluate('process.pid');
    await inspector.collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const mb = (n) => Math.round((n / 1048576) * 10) / 10;
    const u = JSON.parse(await inspector.evaluate('JSON.stringify(process.memoryUsage())'));
    const spaces = JSON.parse((await inspector.evaluate("JSON.stringify(process.mainModule.require('v8').getHeapSpaceStatistics())").catch(() => null)) ?? '[]');
    console.log(formatBreakdown(smapsBreakdownMb(pid)));
    console.log(`V8 heap ${mb(u.heapTotal)} MB (used ${mb(u.heapUsed)}), external ${mb(u.external)} MB (array buffers ${mb(u.arrayBuffers)})`);
    for (const s of spaces) console.log(`  ${s.space_name.padEnd(28)} ${mb(s.space_used_size)} MB used / ${mb(s.physical_space_size)} MB resident`);
  } finally {
    inspector.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();

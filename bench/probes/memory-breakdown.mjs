// Probe: where a running service's resident memory goes after a full GC: V8 heap by space, and RSS by
// kind of mapping (file-backed pages, glibc's main and per-thread malloc arenas, other anonymous
// mappings: V8 pages, WebAssembly code and memory, stacks). Start an instance with its inspector:
//   npm run bench -- --serve --service-node-args --inspect=127.0.0.1:9339
//   node bench/probes/memory-breakdown.mjs [inspectPort=9339]
// Attaching the inspector adds up to ~4 MB (its thread's malloc arena); bench figure 6 also reads RSS
// with no inspector. Free memory that glibc keeps in its arenas counts in RSS: after boot, the thread
// arenas mostly hold what V8's background compilers freed (Prisma's query-compiler WebAssembly).
import { connectInspector } from '../lib/inspector.mjs';
import { formatBreakdown, smapsBreakdownMb } from '../lib/smaps.mjs';

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

await main();

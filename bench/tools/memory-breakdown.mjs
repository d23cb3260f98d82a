// Probe: where a fresh service's resident memory goes (after a full GC), read through the
// inspector of a running instance: `npm run bench -- --serve --service-node-args --inspect=127.0.0.1:9339`
//   node bench/tools/memory-breakdown.mjs [inspectPort=9339]
import { connectInspector } from '../lib/inspector.mjs';
const inspector = await connectInspector(Number(process.argv[2] ?? 9339));
await inspector.collectGarbage();
const mb = (n) => Math.round((n / 1048576) * 10) / 10;
const usage = await inspector.evaluate('JSON.stringify(process.memoryUsage())');
const spaces = (await inspector.evaluate("JSON.stringify(process.mainModule.require('v8').getHeapSpaceStatistics())").catch(() => null)) ?? '[]';
const u = JSON.parse(usage);
console.log(`rss ${mb(u.rss)} MB = V8 heap total ${mb(u.heapTotal)} (used ${mb(u.heapUsed)}) + external ${mb(u.external)} (array buffers ${mb(u.arrayBuffers)}) + code, stacks, native libs, wasm`);
for (const s of JSON.parse(spaces)) console.log(`  ${s.space_name.padEnd(28)} ${mb(s.space_used_size)} MB used / ${mb(s.space_size)} MB`);
inspector.close();
process.exit(0);

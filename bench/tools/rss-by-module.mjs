// Probe: resident memory that each heavy dependency adds just by being loaded (fresh process per
// module, full GC before and after), to see where the service's RSS at rest goes.
//   node bench/tools/rss-by-module.mjs
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modules = [
  './dist/generated/prisma/client.js',
  '@prisma/adapter-pg',
  'openai',
  'socket.io',
  '@socket.io/redis-adapter',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/swagger',
  '@bull-board/api',
  '@bull-board/express',
  'bull',
  'ioredis',
  'prom-client',
  '@sentry/nestjs',
  'class-validator',
  'nestjs-pino',
  'gpt-tokenizer',
  './dist/app.module.js',
];
const probe = `
const before = (global.gc(), process.memoryUsage());
let error = null;
try { require(process.argv[1]); } catch (e) { error = e.code || e.message; }
global.gc();
const after = process.memoryUsage();
console.log(JSON.stringify({ error, rss: (after.rss - before.rss) / 1048576, heap: (after.heapUsed - before.heapUsed) / 1048576, base: before.rss / 1048576 }));
`;
console.log('module                                   RSS added  (V8 heap)');
for (const m of modules) {
  const spec = m.startsWith('./') ? path.join(ROOT, m) : m;
  try {
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', probe, spec], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 }));
    console.log(`${m.padEnd(40)} ${out.error ? `not loadable (${out.error})` : `${out.rss.toFixed(1).padStart(6)} MB  (${out.heap.toFixed(1)} MB)`}`);
  } catch (e) {
    console.log(`${m.padEnd(40)} failed: ${String(e.message).split('\n')[0]}`);
  }
}
console.log(`(a bare node process: ${JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', probe, 'node:os'], { encoding: 'utf8' })).base.toFixed(1)} MB)`);

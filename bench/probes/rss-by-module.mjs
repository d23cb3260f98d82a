// Probe: resident memory that each heavy dependency adds just by being loaded, to see where the
// service's RSS at rest goes. A fresh process per module; before and after loading it, the same
// memory-reducing full GC as bench figure 6 (HeapProfiler.collectGarbage: `gc()` would leave the
// young generation's pages in, ~30 MB after a big load). The inspector is attached before the first
// reading, so its own cost is not counted. With DATABASE_URL set, "prisma: connected" also connects
// the generated client through the pg adapter, which instantiates Prisma's query compiler
// (WebAssembly): loading the client alone does not.
//   npm run build && [DATABASE_URL=postgresql://…] node bench/probes/rss-by-module.mjs [module…]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connectInspector } from '../lib/inspector.mjs';
import { smapsBreakdownMb } from '../lib/smaps.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PRISMA_CONNECTED = 'prisma: connected';
const defaults = [
  './dist/generated/prisma/client.js',
  PRISMA_CONNECTED,
  '@prisma/adapter-pg',
  'openai',
  'socket.io',
  '@socket.io/redis-adapter',
  '@nestjs/core',
  '@nestjs/platform-fastify',
  '@nestjs/swagger',
  '@bull-board/api',
  '@bull-board/fastify',
  'bull',
  'ioredis',
  'prom-client',
  '@sentry/nestjs',
  'class-validator',
  'nestjs-pino',
  'gpt-tokenizer',
  './dist/app.module.js',
];
const modules = process.argv.length > 2 ? process.argv.slice(2) : defaults;

// Runs in the child: `load` is what the probe evaluates through the inspector.
const child = `
globalThis.load = async (spec) => {
  if (spec !== ${JSON.stringify(PRISMA_CONNECTED)}) return void require(spec);
  const { PrismaClient } = require(${JSON.stringify(path.join(ROOT, 'dist/generated/prisma/client.js'))});
  const { PrismaPg } = require('@prisma/adapter-pg');
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) });
  await prisma.$connect();
  await prisma.$queryRaw\`SELECT 1\`;
  globalThis.keep = prisma;
};
console.log(require('node:inspector').url());
setInterval(() => undefined, 60_000);
`;

const rssMb = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

async function measure(spec) {
  const proc = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', child], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const url = await new Promise((resolve, reject) => {
      proc.stdout.once('data', (d) => resolve(String(d).trim()));
      proc.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    const inspector = await connectInspector(Number(new URL(url).port));
    try {
      const settle = async () => {
        await inspector.collectGarbage();
        await sleep(500);
        return { rss: rssMb(proc.pid), heap: Number(await inspector.evaluate('process.memoryUsage().heapUsed')) / 1048576, smaps: smapsBreakdownMb(proc.pid) };
      };
      const before = await settle();
      const load = `load(${JSON.stringify(spec.startsWith('./') ? path.join(ROOT, spec) : spec)}).then(() => null, (e) => String(e.code ?? e.message))`;
      const error = await inspector.evaluate(load);
      if (error) return { error };
      // Background compilation (TurboFan for hot JS and WebAssembly) goes on after the load returns.
      await sleep(3000);
      const after = await settle();
      return {
        rss: after.rss - before.rss,
        heap: after.heap - before.heap,
        arenas: after.smaps.mainArena + after.smaps.threadArenas - before.smaps.mainArena - before.smaps.threadArenas,
        base: before.rss,
      };
    } finally {
      inspector.close();
    }
  } finally {
    proc.kill('SIGKILL');
  }
}

console.log('module                                   RSS added  (V8 heap, malloc arenas)');
let base;
for (const m of modules) {
  if (m === PRISMA_CONNECTED && !process.env.DATABASE_URL) {
    console.log(`${m.padEnd(40)} skipped: set DATABASE_URL`);
    continue;
  }
  try {
    const out = await measure(m);
    base ??= out.base;
    const f = (n) => n.toFixed(1);
    console.log(`${m.padEnd(40)} ${out.error ? `not loadable (${out.error})` : `${f(out.rss).padStart(6)} MB  (${f(out.heap)} MB, ${f(out.arenas)} MB)`}`);
  } catch (e) {
    console.log(`${m.padEnd(40)} failed: ${String(e.message).split('\n')[0]}`);
  }
}
if (base) console.log(`(a bare node process with the inspector attached, after the same GC: ${base.toFixed(1)} MB)`);

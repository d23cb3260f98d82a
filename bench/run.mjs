// npm run bench [-- --quick] — what the service adds on top of the model, measured side by side
// with the same client talking to the upstream directly, in the same run, interleaved ABBA.
// See bench/README.md for the figures, the flags and the method; results go to bench/RESULTS.md.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { answerText } from './lib/answer.mjs';
import {
  connectSocket,
  connectSockets,
  createDirectClient,
  postJson,
  streamDirectSdk,
  streamDirectSse,
  streamViaSocket,
} from './lib/clients.mjs';
import { connectInspector } from './lib/inspector.mjs';
import { startPgCounterProxy } from './lib/pg-counter-proxy.mjs';
import { cpuInfo, cpuMs, loadAvg, peakRssMb, resetPeakRss, rssMb } from './lib/proc.mjs';
import { claimRedisDb, dropDatabase, releaseRedisDb, resetDatabase, seedListUser, seedUsers } from './lib/setup.mjs';
import { max, median, percentile, round, sum } from './lib/stats.mjs';
import { summarizeProfile } from './profile-summary.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = path.join(ROOT, 'bench');
process.chdir(ROOT);

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, fallback) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
};
if (flag('help')) {
  console.log(readFileSync(path.join(BENCH, 'README.md'), 'utf8'));
  process.exit(0);
}
const QUICK = flag('quick');
const ONLY = opt('only', '') ? new Set(String(opt('only')).split(',').map((s) => s.trim())) : null;
const runs = (fig) => !ONLY || ONLY.has(String(fig));
const DIRECT = opt('direct', 'sdk'); // sdk | sse
if (!['sdk', 'sse'].includes(DIRECT)) throw new Error('--direct must be sdk or sse');
const PROFILE = flag('profile') || (!QUICK && !flag('no-profile') && !ONLY) || (ONLY?.has('profile') ?? false);

const STREAM = {
  ttftMs: Number(opt('ttft-ms', 50)),
  chunks: Number(opt('chunks', 100)),
  cadenceMs: Number(opt('cadence-ms', 20)),
};
const ONE_CLIENT_CADENCE_MS = Number(opt('one-client-cadence-ms', 2));
const CHAT_DELAY_MS = Number(opt('chat-delay-ms', 50));
const SIZES = QUICK
  ? { oneRounds: 2, onePerRound: 25, restRounds: 2, restPerRound: 40, levels: [50, 200, 1000], concRounds: 1, c20Rounds: 1, c20Secs: 3, listWarm: 1, listRounds: 2, listSecs: 4, idleSockets: 1000 }
  : { oneRounds: 3, onePerRound: 80, restRounds: 3, restPerRound: 100, levels: [50, 200, 1000], concRounds: 2, c20Rounds: 2, c20Secs: 5, listWarm: 3, listRounds: 3, listSecs: 10, idleSockets: 1000 };
const SOCKET_USERS = Math.max(...SIZES.levels, SIZES.idleSockets);
const MODEL = 'gpt-4o-mini';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef';
const TOKEN_LIMIT = 2_000_000_000;
const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ai_service_bench';
const REDIS_BASE = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_INDEX_PREFERRED = Number(process.env.BENCH_REDIS_DB ?? 14);
const RUN_ID = `bench-${process.pid}-${Date.now()}`;
const WORK = path.join(os.tmpdir(), `ai-bench-${Date.now()}`);
const OUT = opt('out', !QUICK && !ONLY ? path.join(BENCH, 'RESULTS.md') : path.join(WORK, 'RESULTS.md'));
const HARD_LIMIT_MS = (QUICK ? 8 : 20) * 60_000;
mkdirSync(WORK, { recursive: true });

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: every child is killed on exit, and the whole run has a hard time limit.
// ---------------------------------------------------------------------------------------------
const children = new Set();
let redisIndex;
function killChildren() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping`);
    killChildren();
    const release = redisIndex === undefined ? Promise.resolve() : releaseRedisDb(REDIS_BASE, redisIndex, RUN_ID).catch(() => undefined);
    release.finally(() => process.exit(130));
  });
}
const hardLimit = setTimeout(() => {
  console.error(`bench: hard time limit of ${HARD_LIMIT_MS / 60000} min reached, aborting`);
  killChildren();
  process.exit(2);
}, HARD_LIMIT_MS);
hardLimit.unref();

const t0 = Date.now();
const log = (...args) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`, ...args);

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const PRELOAD = path.join(BENCH, 'lib', 'child-preload.cjs');
// --dist <dir>: run another build of the service (e.g. bench/tools/prototype-fixes.mjs's patched copy).
// By default the run works on a private snapshot of dist/ (taken after the build check), because
// other people rebuild dist/ in this working tree and `nest build` empties it first.
let DIST = opt('dist', 'dist');
const SNAPSHOT = path.join(ROOT, 'node_modules', '.cache', 'ai-bench-dist', String(process.pid), 'dist');

async function startFake() {
  const child = spawn(
    process.execPath,
    ['-r', PRELOAD, path.join(BENCH, 'fake-upstream.mjs'), '--ttft-ms', STREAM.ttftMs, '--chunks', STREAM.chunks, '--cadence-ms', STREAM.cadenceMs, '--chat-delay-ms', CHAT_DELAY_MS].map(String),
    { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH } },
  );
  children.add(child);
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`fake upstream exited with ${code}`)));
  });
  const { url } = JSON.parse(line);
  return { child, pid: child.pid, url, origin: url.replace(/\/v1$/, '') };
}

async function setFakeProfile(fake, profile) {
  const res = await fetch(`${fake.origin}/_bench/config`, { method: 'POST', body: JSON.stringify(profile) });
  return res.json();
}

function serviceEnv(port, overrides = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/root',
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL,
    REDIS_URL: `${REDIS_BASE}/${redisIndex}`,
    REDIS_PREFIX: 'ai-bench',
    JWT_SECRET,
    JWT_EXPIRES_IN: '3h',
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    OPENAI_API_KEY: 'sk-bench-0123456789',
    OPENAI_MODEL: MODEL,
    OPENAI_MAX_RETRIES: '0',
    OPENAI_TIMEOUT_MS: '120000',
    AI_RATE_LIMIT: '1000000000',
    AUTH_RATE_LIMIT: '1000000000',
    USER_TOKEN_LIMIT: String(TOKEN_LIMIT),
    SHUTDOWN_GRACE_MS: '3000',
    ...overrides,
  };
}

async function startService(name, { port, fakeUrl, env = {}, nodeArgs = [] }) {
  const logFile = path.join(WORK, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, '-r', PRELOAD, path.join(DIST, 'main')], {
    cwd: ROOT,
    env: serviceEnv(port, { OPENAI_BASE_URL: fakeUrl, ...env }),
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  children.add(child);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  let exited = null;
  child.once('exit', (code, signal) => (exited = `${code ?? signal}`));
  for (;;) {
    if (exited !== null) throw new Error(`service ${name} exited (${exited}) during start; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      const res = await fetch(`${base}/api/v1/health`);
      if (res.status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`service ${name} not healthy within 60 s; see ${logFile}`);
    await sleep(100);
  }
  return { child, pid: child.pid, base, logFile, name };
}

async function stopProcess(child, signal = 'SIGTERM', timeoutMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return children.delete(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

// ---------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function buildIfStale() {
  if (DIST !== 'dist') return `not built: --dist ${DIST}`;
  const built = existsSync('dist/main.js') ? statSync('dist/main.js').mtimeMs : 0;
  const sources = Math.max(newestMtime('src'), ...['prisma/schema.prisma', 'tsconfig.json', 'nest-cli.json', 'package.json'].filter(existsSync).map((f) => statSync(f).mtimeMs));
  if (flag('no-build')) {
    if (!built) throw new Error('--no-build but dist/main.js is missing');
    return built >= sources ? 'up to date' : 'stale, kept (--no-build)';
  }
  if (built >= sources) return 'up to date';
  log('dist/ is older than src/: npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (someone may be mid-edit in src/; retry, or use --no-build):\n${(result.stdout + result.stderr).slice(-3000)}`);
  }
  return 'rebuilt';
}

// ---------------------------------------------------------------------------------------------
// Measurement helpers
// ---------------------------------------------------------------------------------------------
const ABBA = ['A', 'B', 'B', 'A'];
const msg = (tag) => `[${tag}] Tell me about the weather on Mars in a few sentences.`;

function directStream(client, fake, tag, chunks) {
  const args = { model: MODEL, message: msg(tag), expected: answerText(tag, chunks) };
  return DIRECT === 'sse' ? streamDirectSse(fake.url, args) : streamDirectSdk(client, args);
}

function diffPercentiles(a, b, ps) {
  const out = {};
  for (const p of ps) out[`p${p}`] = percentile(b, p) - percentile(a, p);
  return out;
}

function medianOf(rounds, key) {
  return median(rounds.map((r) => r[key]).filter(Number.isFinite));
}

const results = { figures: {}, notes: [] };

// Figure 6: resident memory at rest and with idle authenticated sockets, on a fresh instance.
// Two readings at rest, because the way a full GC is forced changes what it measures:
// - idle, no inspector: the process exactly as production runs it (--inspect-port only names a
//   port; the inspector is not started), read after IDLE_SECS of idleness, by which time V8's memory
//   reducer has run its own memory-reducing GCs (~10-20 s after boot here). What `ps` shows an operator.
// - after a full GC: the inspector is then started (SIGUSR1) and HeapProfiler.collectGarbage forces
//   the same kind of GC (it also gives back the young generation). Attaching costs the process up to
//   ~4 MB (the inspector thread's malloc arena), so this reading is never the lower one by much.
// `--expose-gc` + gc() is not used: that GC keeps the young generation's pages (~30 MB here), so it
// reads well above what an idle production process holds.
const IDLE_SECS = 30;
async function figureIdle(fake, users) {
  const inspectPort = await freePort();
  const service = await startService('service-idle', { port: await freePort(), fakeUrl: fake.url, nodeArgs: [`--inspect-port=127.0.0.1:${inspectPort}`] });
  let inspector;
  try {
    const sample = async () => {
      await sleep(300);
      const values = [];
      for (let i = 0; i < 5; i++) {
        values.push(rssMb(service.pid));
        await sleep(200);
      }
      return median(values);
    };
    const healthy = performance.now();
    await sleep(2000);
    const atRestNoGc = await sample();
    await sleep(IDLE_SECS * 1000 - (performance.now() - healthy));
    const atRestIdle = await sample();
    process.kill(service.pid, 'SIGUSR1');
    inspector = await connectInspector(inspectPort);
    const fullGc = async () => {
      await inspector.collectGarbage();
      return sample();
    };
    const atRest = await fullGc();
    log(`fig 6: RSS at rest ${atRestNoGc.toFixed(1)} MB 2 s after boot, ${atRestIdle.toFixed(1)} MB idle ${IDLE_SECS} s (no inspector), ${atRest.toFixed(1)} MB after a full GC; connecting ${SIZES.idleSockets} sockets`);
    const tc = performance.now();
    const sockets = await connectSockets(service.base, users.slice(0, SIZES.idleSockets).map((u) => u.token));
    const connectSecs = (performance.now() - tc) / 1000;
    await sleep(3000);
    const withSocketsNoGc = await sample();
    const withSockets = await fullGc();
    log(`fig 6: RSS with ${sockets.length} idle sockets ${withSocketsNoGc.toFixed(1)} MB, after a full GC ${withSockets.toFixed(1)} MB (+${(withSockets - atRest).toFixed(1)}), connected in ${connectSecs.toFixed(1)} s`);
    results.figures.idle = { atRest, atRestIdle, atRestNoGc, idleSecs: IDLE_SECS, withSockets, withSocketsNoGc, added: withSockets - atRest, sockets: sockets.length, connectSecs };
    for (const s of sockets) s.close();
  } finally {
    inspector?.close();
    await stopProcess(service.child);
  }
}

// Figure 1: one client, sequential turns, streaming and non-streaming.
async function figureOneClient(service, fake, direct, user) {
  const chunks = STREAM.chunks;
  await setFakeProfile(fake, { ...STREAM, cadenceMs: ONE_CLIENT_CADENCE_MS });
  const socket = await connectSocket(service.base, user.token);
  const runSide = async (side, tag) =>
    side === 'A' ? directStream(direct, fake, tag, chunks) : streamViaSocket(socket, { message: msg(tag), expected: answerText(tag, chunks) });
  // Warm-up (JIT, pools, the conversation's first turn); not measured.
  for (let i = 0; i < 20; i++) await runSide(ABBA[i % 4], `w1_${i}`);
  const rounds = [];
  const errors = [];
  for (let r = 0; r < SIZES.oneRounds; r++) {
    const A = [];
    const B = [];
    for (let i = 0; i < SIZES.onePerRound * 2; i++) {
      const side = ABBA[i % 4];
      const res = await runSide(side, `o${r}_${i}`);
      if (!res.ok) errors.push(`${side}: ${res.error}`);
      else (side === 'A' ? A : B).push(res);
    }
    const ttft = diffPercentiles(A.map((x) => x.ttft), B.map((x) => x.ttft), [50, 95, 99]);
    const ttlt = diffPercentiles(A.map((x) => x.ttlt), B.map((x) => x.ttlt), [50, 95, 99]);
    rounds.push({
      ttft50: ttft.p50, ttft95: ttft.p95, ttft99: ttft.p99,
      ttlt50: ttlt.p50, ttlt95: ttlt.p95, ttlt99: ttlt.p99,
      directTtft50: percentile(A.map((x) => x.ttft), 50), directTtlt50: percentile(A.map((x) => x.ttlt), 50),
      n: Math.min(A.length, B.length),
    });
    log(`fig 1 stream round ${r + 1}: added TTFT p50 ${ttft.p50.toFixed(2)} p95 ${ttft.p95.toFixed(2)} p99 ${ttft.p99.toFixed(2)} ms; added TTLT p50 ${ttlt.p50.toFixed(2)} p99 ${ttlt.p99.toFixed(2)} ms`);
  }
  socket.close();
  const stream = Object.fromEntries(Object.keys(rounds[0]).map((k) => [k, medianOf(rounds, k)]));
  stream.errors = errors;
  stream.rounds = rounds;

  // Non-streaming: POST /api/v1/ai/chat vs POST <fake>/v1/chat/completions, both with fetch.
  await setFakeProfile(fake, { ...STREAM, chatDelayMs: CHAT_DELAY_MS });
  const auth = { authorization: `Bearer ${user.token}` };
  let conversationId = null;
  const restSide = async (side, tag) => {
    if (side === 'A') {
      const res = await postJson(`${fake.url}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: msg(tag) }], max_tokens: 4096, temperature: 0.7 }, { authorization: 'Bearer sk-bench-direct' });
      const ok = res.ok && res.body?.choices?.[0]?.message?.content === answerText(tag, chunks);
      return { ...res, ok };
    }
    const res = await postJson(`${service.base}/api/v1/ai/chat`, { message: msg(tag), conversationId }, auth);
    if (res.ok) conversationId = res.body.conversationId;
    return { ...res, ok: res.ok && res.body?.content === answerText(tag, chunks) };
  };
  for (let i = 0; i < 20; i++) await restSide(ABBA[i % 4], `wr_${i}`);
  const restRounds = [];
  const restErrors = [];
  for (let r = 0; r < SIZES.restRounds; r++) {
    const A = [];
    const B = [];
    for (let i = 0; i < SIZES.restPerRound * 2; i++) {
      const side = ABBA[i % 4];
      const res = await restSide(side, `n${r}_${i}`);
      if (!res.ok) restErrors.push(`${side}: ${res.status} ${res.error ?? JSON.stringify(res.body).slice(0, 200)}`);
      else (side === 'A' ? A : B).push(res.latency);
    }
    const d = diffPercentiles(A, B, [50, 95, 99]);
    restRounds.push({ p50: d.p50, p95: d.p95, p99: d.p99, direct50: percentile(A, 50) });
    log(`fig 1 REST round ${r + 1}: added latency p50 ${d.p50.toFixed(2)} p95 ${d.p95.toFixed(2)} p99 ${d.p99.toFixed(2)} ms`);
  }
  const rest = Object.fromEntries(Object.keys(restRounds[0]).map((k) => [k, medianOf(restRounds, k)]));
  rest.errors = restErrors;
  results.figures.oneClient = { stream, rest, profile: { ...STREAM, cadenceMs: ONE_CLIENT_CADENCE_MS }, chatDelayMs: CHAT_DELAY_MS };
}

// Figure 2: N simultaneous streams, direct (A) vs through the service's sockets (B).
async function runConcurrent(side, { n, sockets, service, fake, direct, tagPrefix, timeoutMs = 120_000 }) {
  const chunks = STREAM.chunks;
  const pid = side === 'A' ? fake.pid : service.pid;
  if (side === 'B') resetPeakRss(service.pid);
  const cpu0 = cpuMs(pid);
  const fakeCpu0 = cpuMs(fake.pid);
  const tStart = performance.now();
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const tag = `${tagPrefix}_${i}`;
    jobs.push(
      side === 'A'
        ? directStream(direct, fake, tag, chunks)
        : streamViaSocket(sockets[i], { message: msg(tag), expected: answerText(tag, chunks), timeoutMs }),
    );
  }
  const res = await Promise.all(jobs);
  const tEnd = performance.now();
  const ok = res.filter((r) => r.ok);
  const cpu = cpuMs(pid) - cpu0;
  return {
    side,
    n,
    completed: ok.length,
    errors: res.filter((r) => !r.ok).map((r) => r.error),
    ttfts: ok.map((r) => r.ttft),
    chunks: sum(res.map((r) => r.chunks)),
    wallSecs: (tEnd - tStart) / 1000,
    chunksPerSec: sum(res.map((r) => r.chunks)) / ((max(res.map((r) => r.endedAt)) - tStart) / 1000),
    cpuMsPerStream: cpu / n,
    fakeCpuMsPerStream: (cpuMs(fake.pid) - fakeCpu0) / n,
    peakRssMb: side === 'B' ? peakRssMb(service.pid) : NaN,
  };
}

async function figureConcurrent(service, fake, direct, sockets) {
  await setFakeProfile(fake, STREAM);
  // Warm-up: every socket's first turn (creates its conversation) and a direct burst; not measured.
  // In batches of 100, so that every socket gets its conversation even if 1,000 at once would fail.
  let warmOk = 0;
  for (let i = 0; i < sockets.length; i += 100) {
    const batch = sockets.slice(i, i + 100);
    const warm = await runConcurrent('B', { n: batch.length, sockets: batch, service, fake, direct, tagPrefix: `wc${i}` });
    warmOk += warm.completed;
    if (warm.errors.length) log(`fig 2 warm-up batch ${i / 100 + 1}: ${warm.errors.length} errors, first: ${warm.errors[0]}`);
  }
  log(`fig 2 warm-up through the service: ${warmOk}/${sockets.length} sockets have a conversation`);
  await runConcurrent('A', { n: 200, sockets, service, fake, direct, tagPrefix: 'wd' });
  await sleep(1000);
  const levels = {};
  for (const n of SIZES.levels) {
    const runsA = [];
    const runsB = [];
    const rounds = [];
    for (let r = 0; r < SIZES.concRounds; r++) {
      const round = { A: [], B: [] };
      for (const [k, side] of ABBA.entries()) {
        const run = await runConcurrent(side, { n, sockets, service, fake, direct, tagPrefix: `c${n}_${r}_${k}` });
        round[side].push(run);
        (side === 'A' ? runsA : runsB).push(run);
        log(`fig 2 n=${n} round ${r + 1} ${side}: ${run.completed}/${n} ok, ${Math.round(run.chunksPerSec)} chunks/s, TTFT p50 ${percentile(run.ttfts, 50).toFixed(1)} p99 ${percentile(run.ttfts, 99).toFixed(1)} ms, CPU ${run.cpuMsPerStream.toFixed(2)} ms/stream${run.errors.length ? `, first error: ${run.errors[0]}` : ''}`);
        await sleep(n >= 1000 ? 1500 : 500);
      }
      const aT = round.A.flatMap((x) => x.ttfts);
      const bT = round.B.flatMap((x) => x.ttfts);
      rounds.push({
        addedTtft50: percentile(bT, 50) - percentile(aT, 50),
        addedTtft99: percentile(bT, 99) - percentile(aT, 99),
        chunksRatio: median(round.B.map((x) => x.chunksPerSec)) / median(round.A.map((x) => x.chunksPerSec)),
      });
    }
    levels[n] = {
      n,
      completedMin: Math.min(...runsB.map((x) => x.completed)),
      runsB: runsB.length,
      errorsB: sum(runsB.map((x) => x.errors.length)),
      errorsA: sum(runsA.map((x) => x.errors.length)),
      firstError: runsB.flatMap((x) => x.errors)[0] ?? runsA.flatMap((x) => x.errors)[0] ?? null,
      addedTtft50: medianOf(rounds, 'addedTtft50'),
      addedTtft99: medianOf(rounds, 'addedTtft99'),
      directTtft50: median(runsA.map((x) => percentile(x.ttfts, 50))),
      serviceTtft99: median(runsB.map((x) => percentile(x.ttfts, 99))),
      chunksPerSecA: median(runsA.map((x) => x.chunksPerSec)),
      chunksPerSecB: median(runsB.map((x) => x.chunksPerSec)),
      chunksRatio: medianOf(rounds, 'chunksRatio'),
      cpuMsPerStream: median(runsB.map((x) => x.cpuMsPerStream)),
      fakeCpuMsPerStream: median(runsA.map((x) => x.fakeCpuMsPerStream)),
      peakRssMb: max(runsB.map((x) => x.peakRssMb)),
      wallSecsB: median(runsB.map((x) => x.wallSecs)),
      wallSecsA: median(runsA.map((x) => x.wallSecs)),
    };
  }
  results.figures.concurrent = { levels, profile: STREAM };
}

// Figure 3: POST /ai/chat at concurrency 20 vs direct non-streaming completions, fixed duration.
async function figureRestConcurrency(service, fake, users) {
  await setFakeProfile(fake, { ...STREAM, chatDelayMs: CHAT_DELAY_MS });
  const C = 20;
  const conversations = new Array(C).fill(null);
  const once = async (side, w, tag) => {
    if (side === 'A') {
      const res = await postJson(`${fake.url}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: msg(tag) }], max_tokens: 4096, temperature: 0.7 }, { authorization: 'Bearer sk-bench-direct' });
      return { ...res, ok: res.ok && res.body?.choices?.[0]?.message?.content === answerText(tag, STREAM.chunks) };
    }
    const res = await postJson(`${service.base}/api/v1/ai/chat`, { message: msg(tag), conversationId: conversations[w] }, { authorization: `Bearer ${users[w].token}` });
    if (res.ok) conversations[w] = res.body.conversationId;
    return { ...res, ok: res.ok && res.body?.content === answerText(tag, STREAM.chunks) };
  };
  const run = async (side, secs, label) => {
    const pid = side === 'A' ? fake.pid : service.pid;
    const cpu0 = cpuMs(pid);
    const start = performance.now();
    const deadline = start + secs * 1000;
    const latencies = [];
    const errors = [];
    let lastEnd = start;
    await Promise.all(
      Array.from({ length: C }, async (_, w) => {
        for (let i = 0; performance.now() < deadline && i < 100_000; i++) {
          const res = await once(side, w, `${label}_${w}_${i}`);
          lastEnd = Math.max(lastEnd, res.endedAt);
          if (res.ok) latencies.push(res.latency);
          else errors.push(`${res.status} ${res.error ?? JSON.stringify(res.body).slice(0, 200)}`);
        }
      }),
    );
    const secsTaken = (lastEnd - start) / 1000;
    return { side, rps: latencies.length / secsTaken, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, count: latencies.length, cpuMsPerReq: (cpuMs(pid) - cpu0) / Math.max(1, latencies.length + errors.length) };
  };
  await run('B', 1.5, 'w3b');
  await run('A', 1, 'w3a');
  const rounds = [];
  const all = [];
  for (let r = 0; r < SIZES.c20Rounds; r++) {
    const round = { A: [], B: [] };
    for (const [k, side] of ABBA.entries()) {
      const res = await run(side, SIZES.c20Secs, `c20_${r}_${k}`);
      round[side].push(res);
      all.push(res);
      log(`fig 3 round ${r + 1} ${side}: ${res.rps.toFixed(1)} req/s, p50 ${res.p50.toFixed(1)} p99 ${res.p99.toFixed(1)} ms, ${res.errors.length} errors`);
      await sleep(300);
    }
    rounds.push({
      ratio: median(round.B.map((x) => x.rps)) / median(round.A.map((x) => x.rps)),
      added50: median(round.B.map((x) => x.p50)) - median(round.A.map((x) => x.p50)),
      added99: median(round.B.map((x) => x.p99)) - median(round.A.map((x) => x.p99)),
    });
  }
  const A = all.filter((x) => x.side === 'A');
  const B = all.filter((x) => x.side === 'B');
  results.figures.rest20 = {
    ratio: medianOf(rounds, 'ratio'),
    added50: medianOf(rounds, 'added50'),
    added99: medianOf(rounds, 'added99'),
    rpsA: median(A.map((x) => x.rps)),
    rpsB: median(B.map((x) => x.rps)),
    errorsA: sum(A.map((x) => x.errors.length)),
    errorsB: sum(B.map((x) => x.errors.length)),
    firstError: B.flatMap((x) => x.errors)[0] ?? A.flatMap((x) => x.errors)[0] ?? null,
    cpuMsPerReq: median(B.map((x) => x.cpuMsPerReq)),
  };
}

// Figure 4: GET /ai/conversations for a user with 1,000 conversations / 100,000 messages, c=50.
function autocannon(url, token, secs, connections = 50) {
  const bin = path.join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
  const out = execFileSync(process.execPath, [bin, '-c', String(connections), '-d', String(secs), '-j', '-H', `Authorization=Bearer ${token}`, url], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: (secs + 30) * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const r = JSON.parse(out);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts, total: r.requests.total };
}

async function figureList(service, listUser) {
  const url = `${service.base}/api/v1/ai/conversations?page=1&limit=20`;
  const check = await fetch(url, { headers: { authorization: `Bearer ${listUser.token}` } }).then((r) => r.json());
  if (check?.meta?.total !== 1000 || check?.data?.length !== 20 || check.data[0].messageCount !== 100) {
    throw new Error(`fig 4: unexpected list answer: ${JSON.stringify(check).slice(0, 300)}`);
  }
  autocannon(url, listUser.token, SIZES.listWarm);
  const rounds = [];
  for (let r = 0; r < SIZES.listRounds; r++) {
    const cpu0 = cpuMs(service.pid);
    const res = autocannon(url, listUser.token, SIZES.listSecs);
    res.cpuMsPerReq = (cpuMs(service.pid) - cpu0) / Math.max(1, res.total);
    rounds.push(res);
    log(`fig 4 round ${r + 1}: ${Math.round(res.rps)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, non-2xx ${res.non2xx}, errors ${res.errors}, service CPU ${res.cpuMsPerReq.toFixed(3)} ms/req`);
  }
  results.figures.list = {
    rps: medianOf(rounds, 'rps'),
    p50: medianOf(rounds, 'p50'),
    p99: medianOf(rounds, 'p99'),
    non2xx: sum(rounds.map((r) => r.non2xx)),
    errors: sum(rounds.map((r) => r.errors)),
    cpuMsPerReq: medianOf(rounds, 'cpuMsPerReq'),
    rounds,
  };
}

// Figure 5: database statements per turn, counted on the wire by a proxy in front of PostgreSQL.
async function figureStatements(fake, user) {
  const proxy = await startPgCounterProxy();
  const port = await freePort();
  const proxied = new URL(DATABASE_URL);
  proxied.port = String(proxy.port);
  const service = await startService('service-statements', { port, fakeUrl: fake.url, env: { DATABASE_URL: proxied.toString() } });
  const out = {};
  // Exact rows: CommandComplete tags do not count the rows of data-modifying CTEs, so rows are also
  // taken from pg_stat_user_tables (n_tup_ins + n_tup_upd + n_tup_del of the bench database). A
  // PostgreSQL 15 backend flushes its counters at most ~10 s after going idle, so each turn is
  // followed by a quiet wait before the next reading; only this instance uses the database now.
  const statsClient = new (await import('pg')).default.Client({ connectionString: DATABASE_URL });
  await statsClient.connect();
  const rowsSoFar = async () => {
    await statsClient.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await statsClient.query('SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::int AS n FROM pg_stat_user_tables');
    return rows[0].n;
  };
  const FLUSH_WAIT_MS = 11_500;
  let rowsBefore;
  try {
    const socket = await connectSocket(service.base, user.token);
    const streamTurn = async (label, chunks) => {
      await setFakeProfile(fake, { ttftMs: 5, chunks, cadenceMs: 0 });
      proxy.take();
      const res = await streamViaSocket(socket, { message: msg(label), expected: answerText(label, chunks) });
      await sleep(300); // nothing should follow chat:end, but give stragglers the chance to be counted
      const counted = proxy.take();
      if (!res.ok) throw new Error(`fig 5: ${label} failed: ${res.error}`);
      await sleep(FLUSH_WAIT_MS);
      const rowsNow = await rowsSoFar();
      counted.rowsExact = rowsNow - rowsBefore;
      rowsBefore = rowsNow;
      return counted;
    };
    await sleep(FLUSH_WAIT_MS); // the connect and the instance's start-up settle first
    rowsBefore = await rowsSoFar();
    out.streamNewConversation = await streamTurn('sNew', 100);
    out.stream10 = await streamTurn('s10', 10);
    out.stream100 = await streamTurn('s100', 100);
    out.stream1000 = await streamTurn('s1000', 1000);
    socket.close();
    await setFakeProfile(fake, { ttftMs: 5, chunks: 100, cadenceMs: 0, chatDelayMs: 5 });
    const auth = { authorization: `Bearer ${user.token}` };
    const restTurn = async (body) => {
      proxy.take();
      const res = await postJson(`${service.base}/api/v1/ai/chat`, body, auth);
      await sleep(300);
      const counted = proxy.take();
      await sleep(FLUSH_WAIT_MS);
      const rowsNow = await rowsSoFar();
      counted.rowsExact = rowsNow - rowsBefore;
      rowsBefore = rowsNow;
      return { res, counted };
    };
    const { res: first, counted: restNew } = await restTurn({ message: msg('rNew') });
    out.restNewConversation = restNew;
    const { res: second, counted: restNext } = await restTurn({ message: msg('rNext'), conversationId: first.body?.conversationId });
    out.restTurn = restNext;
    if (!first.ok || !second.ok) throw new Error(`fig 5: REST turn failed: ${JSON.stringify(second.body ?? first.body)}`);
    for (const [k, v] of Object.entries(out)) {
      log(`fig 5 ${k}: ${v.statements} statements (${Object.entries(v.byCommand).map(([c, n]) => `${c} ${n}`).join(', ')}), ${v.rowsExact} rows written (tags: ${v.rowsWritten}), ${v.writeTransactions} write transactions`);
    }
  } finally {
    await statsClient.end().catch(() => undefined);
    await stopProcess(service.child);
    await proxy.close();
  }
  results.figures.statements = out;
}

// CPU profiles of a separate service instance under the streaming, REST chat and list loads.
async function profileService(fake, users, listUser, restUsers) {
  const profiles = {};
  for (const load of ['streaming', 'rest', 'list']) {
    const dir = path.join(WORK, `cpuprofile-${load}`);
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const service = await startService(`service-profile-${load}`, {
      port,
      fakeUrl: fake.url,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
      env: { BENCH_EXIT_ON_SIGUSR2: '1' },
    });
    const nowUs = () => Number(process.hrtime.bigint() / 1000n);
    let window;
    try {
      if (load === 'streaming') {
        await setFakeProfile(fake, STREAM);
        const sockets = await connectSockets(service.base, users.slice(0, 200).map((u) => u.token));
        await runConcurrent('B', { n: 200, sockets, service, fake, direct: null, tagPrefix: 'pw' }); // warm-up, not in the window
        window = { fromUs: nowUs() };
        for (let r = 0; r < 4; r++) {
          const run = await runConcurrent('B', { n: 200, sockets, service, fake, direct: null, tagPrefix: `p${r}` });
          log(`profile streaming run ${r + 1}: ${run.completed}/200 ok, ${Math.round(run.chunksPerSec)} chunks/s`);
        }
        window.toUs = nowUs();
        for (const s of sockets) s.close();
      } else if (load === 'rest') {
        // Figure 3's load: 20 users, each continuing its own conversation, back to back.
        await setFakeProfile(fake, { ...STREAM, chatDelayMs: CHAT_DELAY_MS });
        const conversations = new Array(restUsers.length).fill(null);
        const drive = async (secs, tag) => {
          const deadline = performance.now() + secs * 1000;
          let done = 0;
          await Promise.all(
            restUsers.map(async (user, w) => {
              for (let i = 0; performance.now() < deadline; i++) {
                const res = await postJson(`${service.base}/api/v1/ai/chat`, { message: msg(`${tag}_${w}_${i}`), conversationId: conversations[w] }, { authorization: `Bearer ${user.token}` });
                if (res.ok) (conversations[w] = res.body.conversationId), done++;
              }
            }),
          );
          return done / secs;
        };
        await drive(2, 'prw'); // warm-up, not in the window
        window = { fromUs: nowUs() };
        const rps = await drive(QUICK ? 4 : 8, 'pr');
        window.toUs = nowUs();
        log(`profile REST chat: ${Math.round(rps)} req/s (profiler on)`);
      } else {
        autocannon(`${service.base}/api/v1/ai/conversations?page=1&limit=20`, listUser.token, 2); // warm-up
        window = { fromUs: nowUs() };
        const res = autocannon(`${service.base}/api/v1/ai/conversations?page=1&limit=20`, listUser.token, QUICK ? 4 : 8);
        window.toUs = nowUs();
        log(`profile list: ${Math.round(res.rps)} req/s (profiler on)`);
      }
    } finally {
      await stopProcess(service.child, 'SIGUSR2');
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) {
      results.notes.push(`no .cpuprofile written for the ${load} load`);
      continue;
    }
    profiles[load] = { file: path.join(dir, file), ...summarizeProfile(path.join(dir, file), 15, window) };
    log(`profile ${load}: ${profiles[load].file}`);
  }
  results.figures.profiles = profiles;
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------
const f1 = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
function check(value, op, target) {
  if (!Number.isFinite(value)) return '❌ (no value)';
  const ok = op === '<=' ? value <= target : value >= target;
  return ok ? '✅' : '❌';
}

function buildRows() {
  const F = results.figures;
  const rows = [];
  const add = (figure, metric, value, target, status) => rows.push({ figure, metric, value, target, status });
  const missBy = (value, target, unit = 'ms') => (value > target ? ` (over by ${f1(value - target, 2)} ${unit})` : '');
  if (F.oneClient) {
    const s = F.oneClient.stream;
    add('1 one client, stream', 'added TTFT p50', `${f1(s.ttft50, 2)} ms`, '≤ 3 ms', check(s.ttft50, '<=', 3) + missBy(s.ttft50, 3));
    add('1 one client, stream', 'added TTFT p95', `${f1(s.ttft95, 2)} ms`, '—', '');
    add('1 one client, stream', 'added TTFT p99', `${f1(s.ttft99, 2)} ms`, '≤ 10 ms', check(s.ttft99, '<=', 10) + missBy(s.ttft99, 10));
    add('1 one client, stream', 'added time-to-last-token p50 / p95 / p99', `${f1(s.ttlt50, 2)} / ${f1(s.ttlt95, 2)} / ${f1(s.ttlt99, 2)} ms`, '—', '');
    add('1 one client, stream', 'direct TTFT p50 / TTLT p50 (baseline)', `${f1(s.directTtft50)} / ${f1(s.directTtlt50)} ms`, '—', '');
    add('1 one client, stream', 'failed or wrong streams', `${s.errors.length}`, '0', s.errors.length ? '❌' : '✅');
    const r = F.oneClient.rest;
    add('1 one client, POST /ai/chat', 'added latency p50', `${f1(r.p50, 2)} ms`, '≤ 5 ms', check(r.p50, '<=', 5) + missBy(r.p50, 5));
    add('1 one client, POST /ai/chat', 'added latency p95 / p99', `${f1(r.p95, 2)} / ${f1(r.p99, 2)} ms`, '—', '');
    add('1 one client, POST /ai/chat', 'direct latency p50 (baseline)', `${f1(r.direct50, 2)} ms`, '—', '');
  }
  if (F.concurrent) {
    for (const L of Object.values(F.concurrent.levels)) {
      const name = `2 ${L.n} simultaneous streams`;
      const complete = `${L.completedMin}/${L.n} (worst of ${L.runsB} runs), errors ${L.errorsB}`;
      if (L.n === 200) {
        add(name, 'completed with exact text', complete, '200/200', L.completedMin === 200 && L.errorsB === 0 ? '✅' : '❌');
        add(name, 'chunks/s via service vs direct', `${Math.round(L.chunksPerSecB)} vs ${Math.round(L.chunksPerSecA)} (${f1(L.chunksRatio * 100)}%)`, '≥ 90%', L.chunksRatio >= 0.9 ? '✅' : `❌ (short by ${f1((0.9 - L.chunksRatio) * 100)} points)`);
        add(name, 'added TTFT p50 / p99', `${f1(L.addedTtft50)} / ${f1(L.addedTtft99)} ms`, 'p99 ≤ 100 ms', check(L.addedTtft99, '<=', 100) + missBy(L.addedTtft99, 100));
      } else if (L.n === 1000) {
        add(name, 'completed, errors', complete, 'all, 0 errors', L.completedMin === L.n && L.errorsB === 0 ? '✅' : '❌');
        add(name, 'chunks/s via service vs direct', `${Math.round(L.chunksPerSecB)} vs ${Math.round(L.chunksPerSecA)} (${f1(L.chunksRatio * 100)}%)`, '—', '');
        add(name, 'added TTFT p50 / p99', `${f1(L.addedTtft50)} / ${f1(L.addedTtft99)} ms`, '—', '');
      } else {
        add(name, 'completed, errors', complete, '—', L.completedMin === L.n && L.errorsB === 0 ? '✅' : '❌');
        add(name, 'chunks/s via service vs direct', `${Math.round(L.chunksPerSecB)} vs ${Math.round(L.chunksPerSecA)} (${f1(L.chunksRatio * 100)}%)`, '—', '');
        add(name, 'added TTFT p50 / p99', `${f1(L.addedTtft50)} / ${f1(L.addedTtft99)} ms`, '—', '');
      }
      add(name, 'service CPU per stream; peak RSS', `${f1(L.cpuMsPerStream, 2)} ms; ${f1(L.peakRssMb)} MB`, '—', '');
    }
  }
  if (F.rest20) {
    const R = F.rest20;
    add('3 POST /ai/chat, c=20', 'throughput via service vs direct', `${f1(R.rpsB)} vs ${f1(R.rpsA)} req/s (${f1(R.ratio, 3)}x)`, '≥ 0.95x', R.ratio >= 0.95 ? '✅' : `❌ (short by ${f1(0.95 - R.ratio, 3)})`);
    add('3 POST /ai/chat, c=20', 'added latency p50 / p99', `${f1(R.added50, 2)} / ${f1(R.added99, 2)} ms`, '—', '');
    add('3 POST /ai/chat, c=20', 'errors (service / direct); service CPU per request', `${R.errorsB} / ${R.errorsA}; ${f1(R.cpuMsPerReq, 2)} ms`, '0', R.errorsB === 0 ? '✅' : '❌');
  }
  if (F.list) {
    const L = F.list;
    add('4 GET /ai/conversations, c=50', 'throughput', `${Math.round(L.rps)} req/s`, '≥ 2,500 req/s', L.rps >= 2500 ? '✅' : `❌ (short by ${Math.round(2500 - L.rps)} req/s, ${f1((1 - L.rps / 2500) * 100)}%)`);
    add('4 GET /ai/conversations, c=50', 'latency p50 / p99', `${f1(L.p50)} / ${f1(L.p99)} ms`, 'p99 ≤ 40 ms', check(L.p99, '<=', 40) + missBy(L.p99, 40));
    add('4 GET /ai/conversations, c=50', 'non-2xx / errors; service CPU per request', `${L.non2xx} / ${L.errors}; ${f1(L.cpuMsPerReq, 3)} ms`, '0', L.non2xx + L.errors === 0 ? '✅' : '❌');
  }
  if (F.statements) {
    const S = F.statements;
    const w = (x) => `${x.statements} statements, ${x.rowsExact} rows written, ${x.writeTransactions} write tx`;
    const within = (x) => {
      const over = [x.rowsExact > 5 ? `${x.rowsExact - 5} row(s) over` : '', x.writeTransactions > 2 ? `${x.writeTransactions - 2} transaction(s) over` : ''].filter(Boolean);
      return over.length ? `❌ (${over.join(', ')})` : '✅';
    };
    const constant = S.stream10.rowsExact === S.stream1000.rowsExact && S.stream10.statements === S.stream1000.statements && S.stream10.writeTransactions === S.stream1000.writeTransactions;
    add('5 DB per streamed answer (100 chunks)', 'statements / rows / transactions', w(S.stream100), '≤ 5 rows, ≤ 2 tx', within(S.stream100));
    add('5 DB per streamed answer', '10 vs 1,000 chunks', `${w(S.stream10)} vs ${w(S.stream1000)}`, 'constant', constant ? '✅' : '❌');
    add('5 DB per streamed answer, new conversation', 'statements / rows / transactions', w(S.streamNewConversation), '≤ 5 rows, ≤ 2 tx', within(S.streamNewConversation));
    add('5 DB per REST turn', 'statements / rows / transactions', w(S.restTurn), '≤ 5 rows, ≤ 2 tx', within(S.restTurn));
    add('5 DB per REST turn, new conversation', 'statements / rows / transactions', w(S.restNewConversation), '≤ 5 rows, ≤ 2 tx', within(S.restNewConversation));
  }
  if (F.idle) {
    const I = F.idle;
    add('6 memory', 'RSS at rest (fresh process, after a full GC)', `${f1(I.atRest)} MB (${f1(I.atRestNoGc)} MB 2 s after boot)`, '≤ 150 MB', check(I.atRest, '<=', 150) + missBy(I.atRest, 150, 'MB'));
    if (Number.isFinite(I.atRestIdle)) {
      add('6 memory', `RSS at rest (fresh process, idle ${I.idleSecs} s, no inspector)`, `${f1(I.atRestIdle)} MB`, '≤ 150 MB', check(I.atRestIdle, '<=', 150) + missBy(I.atRestIdle, 150, 'MB'));
    }
    add('6 memory', `RSS added by ${I.sockets} idle authenticated sockets (after a full GC)`, `${f1(I.added)} MB (${f1(I.withSockets)} MB total)`, '≤ 60 MB', check(I.added, '<=', 60) + missBy(I.added, 60, 'MB'));
  }
  if (Number.isFinite(results.afterLoadRssMb)) {
    add('6 memory', 'RSS of the main instance, idle after figures 1-4 (no forced GC)', `${f1(results.afterLoadRssMb)} MB`, '—', '');
  }
  return rows;
}

function markdownTable(rows) {
  const lines = ['| figure | metric | result | target | |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.figure} | ${r.metric} | ${r.value} | ${r.target} | ${r.status} |`);
  return lines.join('\n');
}

function printTable(rows) {
  const widths = ['figure', 'metric', 'value', 'target'].map((k) => Math.min(60, Math.max(k.length, ...rows.map((r) => String(r[k]).length))));
  for (const r of rows) {
    console.log(['figure', 'metric', 'value', 'target'].map((k, i) => String(r[k]).padEnd(widths[i])).join(' | ') + ' | ' + r.status);
  }
}

function writeReport(rows, meta) {
  const F = results.figures;
  const S = F.statements;
  const profileSection = (name, p) =>
    p
      ? [
          `#### ${name} (main thread busy ${p.busyMs} ms of ${p.totalMs} ms under load; \`${p.file}\`)`,
          '',
          '| self time by package | % of busy |',
          '|---|---|',
          ...p.packages.slice(0, 10).map((x) => `| ${x.name} | ${x.pctOfBusy}% |`),
          '',
          '| hottest functions (self time) | % of busy |',
          '|---|---|',
          ...p.functions.slice(0, 15).map((x) => `| \`${x.name.replace(/\|/g, '\\|')}\` | ${x.pctOfBusy}% |`),
          '',
        ].join('\n')
      : '';
  const statementDetail = S
    ? Object.entries(S)
        .map(([k, v]) => `- \`${k}\`: ${v.tags.join(' → ')}`)
        .join('\n')
    : '';
  const md = `# Benchmark results

What the service adds between a client and the model, measured against the same client talking to
the fake upstream directly, in the same run, interleaved ABBA, medians over rounds.
Generated by \`npm run bench${QUICK ? ' -- --quick' : ''}\` — do not edit by hand.

- **Date**: ${meta.date}
- **Commit**: \`${meta.commit}\`${meta.dirty ? ` (working tree had uncommitted changes in: ${meta.dirty}; dist/ is built from the working tree)` : ''}
- **Machine**: ${meta.cpu.cores} × ${meta.cpu.model}, ${meta.cpu.memGb} GB RAM, ${os.type()} ${os.release()}
- **Node**: ${process.version}; PostgreSQL ${meta.pgVersion}; Redis ${meta.redisVersion}
- **Run**: ${QUICK ? 'quick' : 'full'}, ${meta.durationSecs} s; load average at start ${meta.loadStart}, at end ${meta.loadEnd}${meta.otherLoad ? `; **other load seen during the run**: ${meta.otherLoad}` : ''}
- **dist/**: ${meta.build}

Why the figures are what they are, what the profiles show and the measured effect of each proposed
fix: [docs/performance.md](../docs/performance.md).

## Reproduce

\`\`\`sh
# PostgreSQL on 127.0.0.1:5432 (role postgres, trust) and Redis on 127.0.0.1:6379, then:
npm ci
npm run bench              # full run, ~${QUICK ? '7' : Math.ceil(meta.durationSecs / 60)} min, rewrites bench/RESULTS.md
npm run bench -- --quick   # ~5 min smoke run (fewer rounds), writes to /tmp
npm run bench -- --only 1,4 --no-build   # selected figures (1..6, profile)
\`\`\`

## Results

${markdownTable(rows)}

Fake upstream profile for the streaming figures (2, profile): time to first token ${STREAM.ttftMs} ms,
${STREAM.chunks} content chunks, one every ${STREAM.cadenceMs} ms (≈ ${Math.round(1000 / Math.max(1, STREAM.cadenceMs))} tokens/s per stream).
Figure 1 streams use the same but one chunk every ${ONE_CLIENT_CADENCE_MS} ms, so that per-chunk overhead shows in
time-to-last-token and the run stays short. Non-streaming completions answer after ${CHAT_DELAY_MS} ms.
Direct streaming client: ${DIRECT === 'sdk' ? 'the `openai` SDK (same version as the service) reading from the fake' : 'fetch + a minimal SSE parser'};
through the service: \`socket.io-client\` on \`/ai\` (websocket transport). Non-streaming, both sides:
\`fetch\` (undici, keep-alive) with the same JSON parsing.

${F.concurrent ? `### Streams at concurrency (medians over ${SIZES.concRounds * 2} runs per side)

| streams | direct TTFT p50 | added TTFT p50 / p99 | chunks/s direct → service | wall s direct / service | service CPU ms/stream | fake CPU ms/stream | peak RSS MB |
|---|---|---|---|---|---|---|---|
${Object.values(F.concurrent.levels)
  .map((L) => `| ${L.n} | ${f1(L.directTtft50)} | ${f1(L.addedTtft50)} / ${f1(L.addedTtft99)} | ${Math.round(L.chunksPerSecA)} → ${Math.round(L.chunksPerSecB)} | ${f1(L.wallSecsA, 2)} / ${f1(L.wallSecsB, 2)} | ${f1(L.cpuMsPerStream, 2)} | ${f1(L.fakeCpuMsPerStream, 2)} | ${f1(L.peakRssMb)} |`)
  .join('\n')}
${Object.values(F.concurrent.levels).some((L) => L.firstError) ? `\nFirst error seen: ${Object.values(F.concurrent.levels).map((L) => (L.firstError ? `n=${L.n}: \`${String(L.firstError).slice(0, 300)}\`` : '')).filter(Boolean).join('; ')}\n` : ''}` : ''}
${F.list ? `### Conversation list rounds\n\n${F.list.rounds.map((r, i) => `- round ${i + 1}: ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, service CPU ${f1(r.cpuMsPerReq, 3)} ms/request`).join('\n')}\n` : ''}
${S ? `### Statements per turn, as seen on the wire (CommandComplete tags, in order)\n\n${statementDetail}\n` : ''}
${F.profiles ? `### CPU profile of the service (\`node --cpu-prof\`, separate instance)\n\n${profileSection('Streaming: 4 × 200 simultaneous streams', F.profiles.streaming)}\n${profileSection('REST chat: POST /ai/chat, 20 users back to back', F.profiles.rest)}\n${profileSection(`Conversation list: autocannon c=50`, F.profiles.list)}` : ''}
## Method

- **Processes.** The bench (load generator and orchestrator, one Node process), the fake upstream
  (\`bench/fake-upstream.mjs\`, a child process) and the service (\`node dist/main\`, a child process,
  \`NODE_ENV=production\`, \`LOG_LEVEL=warn\`) share the machine's ${meta.cpu.cores} cores with PostgreSQL and Redis.
  The service gets its own database (\`${new URL(DATABASE_URL).pathname.slice(1)}\`, dropped and re-migrated with
  \`scripts/db-migrate.mjs deploy\` each run) and Redis DB ${meta.redisIndex} (claimed with the test suite's lock keys),
  \`AI_RATE_LIMIT\`/\`AUTH_RATE_LIMIT\` 10⁹, \`USER_TOKEN_LIMIT\` 2·10⁹, \`OPENAI_MAX_RETRIES=0\`, \`BCRYPT_ROUNDS=4\`
  (unused by the figures: users are inserted with SQL and their access tokens signed with the service's
  \`JWT_SECRET\` exactly as \`TokenService\` signs them, so no bcrypt cost appears anywhere).
- **Side by side.** Every figure with a direct counterpart alternates A (direct to the fake) and B (through the
  service) in ABBA order — per request for one client, per burst for concurrency, per fixed-duration run for
  c=20 — so drift (JIT warm-up, other load, GC) hits both sides alike. "Added" is percentile(B) − percentile(A)
  within a round; the table gives the median over rounds (one client: ${SIZES.oneRounds} rounds × ${SIZES.onePerRound} streams and
  ${SIZES.restRounds} × ${SIZES.restPerRound} REST turns per side; concurrency: ${SIZES.concRounds} rounds; c=20: ${SIZES.c20Rounds} rounds of ${SIZES.c20Secs} s). Every side is warmed up first.
  With ${SIZES.onePerRound} samples per side per round a one-client p99 is close to the round's maximum.
- **TTFT** is from \`emit('chat:start')\` (or the SDK call) to the first non-empty content delta;
  **time to last token** to the last one. Through the service that includes JWT-less socket routing, payload
  validation, the Redis rate-limit increment, the budget/ownership/history reads, the user-message write and the
  upstream request. Streams count as complete only if \`chat:end\` arrives and the concatenated text equals the
  fake's answer exactly (each stream carries its own tag, so crossed streams would fail too).
- **Turns.** Each socket/worker keeps one conversation (the first, warm-up turn creates it), so measured turns
  read up to \`AI_HISTORY_LIMIT\` (10) prior messages — the common case of a conversation in progress.
- **Chunks/s** = content chunks received by all streams of a burst ÷ (last stream end − burst start).
- **CPU per stream** = Δ(utime+stime) of the service process from \`/proc/<pid>/stat\` over the burst ÷ streams
  (10 ms kernel resolution; excludes PostgreSQL and Redis). **Peak RSS** = \`VmHWM\` after resetting it with
  \`/proc/<pid>/clear_refs\` before each burst. **RSS at rest** = median of 5 \`VmRSS\` samples of a fresh
  process: 2 s after it turned healthy; after ${IDLE_SECS} s idle with no inspector (started with \`--inspect-port\` only,
  so it runs as in production; V8's memory reducer has run its own GCs by then); then after a full GC forced through
  the inspector, started only now with SIGUSR1 (\`HeapProfiler.collectGarbage\`; attaching costs up to ~4 MB). Idle
  sockets: the same full GC, 3 s after ${SIZES.idleSockets} authenticated websocket connections.
- **Conversation list**: one user with 1,000 conversations and 100,000 messages inserted with
  \`generate_series\` (then \`ANALYZE\`); \`GET /api/v1/ai/conversations?page=1&limit=20\` driven by autocannon
  (separate process, 50 connections, ${SIZES.listSecs} s × ${SIZES.listRounds} rounds after a ${SIZES.listWarm} s warm-up).
- **Statements and transactions** are counted by \`bench/lib/pg-counter-proxy.mjs\`, a TCP proxy between a
  dedicated service instance and PostgreSQL that reads the v3 wire protocol: each executed statement ends
  with one CommandComplete whose tag names the command. A *write transaction* is a BEGIN…COMMIT with at least
  one write, or an autocommitted INSERT/UPDATE/DELETE (a data-modifying CTE is one statement and one
  transaction). **Rows written** are the delta of \`n_tup_ins + n_tup_upd + n_tup_del\` over
  \`pg_stat_user_tables\` around each turn — the tags miss the rows of a CTE's inner UPDATEs — read after an
  11.5 s quiet wait each time, since a PostgreSQL 15 backend flushes its counters up to 10 s after going idle;
  nothing else uses the bench database meanwhile. \`pg_stat_statements\` is not loaded on this server.
- **Profiles**: a separate service instance started with \`node --cpu-prof\`, loaded with 4 bursts of 200 streams
  (in another, 20 users posting \`/ai/chat\` back to back; in a third, autocannon on the list), then stopped with SIGUSR2 (clean exit writes the profile);
  \`bench/profile-summary.mjs\` aggregates self time per function and per package.
${results.notes.length ? `\n### Notes from this run\n\n${results.notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;
  writeFileSync(OUT, md);
  writeFileSync(path.join(WORK, 'results.json'), JSON.stringify({ meta, figures: F, notes: results.notes }, null, 2));
}

function otherLoadSnapshot() {
  const seen = new Set();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/jest|tsc |nest build/.test(cmd) && !cmd.includes('bench/')) seen.add(cmd.includes('jest') ? 'jest (a test run)' : cmd.trim().slice(0, 40));
    } catch {
      /* gone */
    }
  }
  return [...seen];
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------
async function main() {
  const otherLoad = new Set(otherLoadSnapshot());
  const loadWatch = setInterval(() => otherLoadSnapshot().forEach((x) => otherLoad.add(x)), 5000);
  loadWatch.unref();
  const meta = {
    date: new Date().toISOString(),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    dirty: execFileSync('git', ['status', '--porcelain', '--', 'src', 'prisma'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
      .join(', '),
    cpu: cpuInfo(),
    loadStart: loadAvg(),
  };
  log(`bench (${QUICK ? 'quick' : 'full'}), work dir ${WORK}`);
  meta.build = buildIfStale();
  log(`dist/: ${meta.build}`);
  if (DIST === 'dist') {
    rmSync(path.dirname(SNAPSHOT), { recursive: true, force: true });
    cpSync('dist', SNAPSHOT, { recursive: true });
    DIST = SNAPSHOT;
    process.on('exit', () => rmSync(path.dirname(SNAPSHOT), { recursive: true, force: true }));
  }

  redisIndex = await claimRedisDb(REDIS_BASE, REDIS_INDEX_PREFERRED, RUN_ID);
  meta.redisIndex = redisIndex;
  try {
    log(`database ${DATABASE_URL} (re-created), Redis DB ${redisIndex}`);
    await resetDatabase(ADMIN_URL, DATABASE_URL);
    const pgClient = new (await import('pg')).default.Client({ connectionString: DATABASE_URL });
    await pgClient.connect();
    meta.pgVersion = (await pgClient.query('SHOW server_version')).rows[0].server_version;
    await pgClient.end();
    meta.redisVersion = /redis_version:(\S+)/.exec(execFileSync('redis-cli', ['-u', REDIS_BASE, 'info', 'server'], { encoding: 'utf8' }))?.[1] ?? '?';

    const users = await seedUsers(DATABASE_URL, SOCKET_USERS + 30, { secret: JWT_SECRET, tokenLimit: TOKEN_LIMIT });
    const socketUsers = users.slice(0, SOCKET_USERS);
    const extra = users.slice(SOCKET_USERS);
    const ts = performance.now();
    const listUser = await seedListUser(DATABASE_URL, { secret: JWT_SECRET, tokenLimit: TOKEN_LIMIT, conversations: 1000, perConversation: 100 });
    log(`seeded ${users.length} users, and one with 1,000 conversations / 100,000 messages (${((performance.now() - ts) / 1000).toFixed(1)} s)`);

    const fake = await startFake();
    const direct = createDirectClient(fake.url);
    log(`fake upstream ${fake.url} (pid ${fake.pid})`);

    if (flag('serve')) {
      // Ad-hoc probing: keep a seeded service + fake running until Ctrl-C (or the hard time limit).
      const nodeArgs = opt('service-node-args', '').split(' ').filter(Boolean);
      const service = await startService('service', { port: await freePort(), fakeUrl: fake.url, nodeArgs, env: { BENCH_EXIT_ON_SIGUSR2: '1' } });
      const info = { base: service.base, pid: service.pid, fakeOrigin: fake.origin, fakePid: fake.pid, tokens: extra.map((u) => u.token), listToken: listUser.token, log: service.logFile };
      writeFileSync(path.join(os.tmpdir(), 'ai-bench-serve.json'), JSON.stringify(info, null, 2));
      log(`serving; details in ${path.join(os.tmpdir(), 'ai-bench-serve.json')}; Ctrl-C to stop`);
      await new Promise(() => undefined);
    }
    if (runs(6)) await figureIdle(fake, socketUsers);
    const needsMain = ['1', '2', '3', '4'].some(runs);
    if (needsMain) {
      const service = await startService('service', { port: await freePort(), fakeUrl: fake.url });
      log(`service ${service.base} (pid ${service.pid})`);
      if (runs(1)) await figureOneClient(service, fake, direct, extra[0]);
      if (runs(2)) {
        const sockets = await connectSockets(service.base, socketUsers.map((u) => u.token));
        await figureConcurrent(service, fake, direct, sockets);
        for (const s of sockets) s.close();
      }
      if (runs(3)) await figureRestConcurrency(service, fake, extra.slice(1, 21));
      if (runs(4)) await figureList(service, listUser);
      await sleep(3000);
      results.afterLoadRssMb = rssMb(service.pid);
      await stopProcess(service.child);
    }
    if (runs(5)) await figureStatements(fake, extra[21]);
    if (PROFILE) await profileService(fake, socketUsers, listUser, extra.slice(1, 21));

    meta.loadEnd = loadAvg();
    meta.otherLoad = [...otherLoad].join(', ');
    meta.durationSecs = Math.round((Date.now() - t0) / 1000);
    if (meta.otherLoad) results.notes.push(`Other processes were busy on the machine during the run (${meta.otherLoad}); the ABBA interleaving spreads that over both sides, but absolute figures are noisier.`);
    const rows = buildRows();
    writeReport(rows, meta);
    console.log('');
    printTable(rows);
    console.log(`\nwritten: ${OUT}\nlogs, profiles, results.json: ${WORK}`);
    await stopProcess(fake.child);
    if (!flag('keep-db')) await dropDatabase(ADMIN_URL, DATABASE_URL);
  } finally {
    await releaseRedisDb(REDIS_BASE, redisIndex, RUN_ID).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`bench failed: ${error?.stack ?? error}`);
    killChildren();
    releaseRedisDb(REDIS_BASE, redisIndex, RUN_ID)
      .catch(() => undefined)
      .finally(() => process.exit(1));
  },
);

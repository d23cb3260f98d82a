// Probe: where the time before the first token goes. Boots the real app in-process from dist/
// (createApp, as main.ts does), wraps the turn's service methods with timers, and runs sequential
// turns (streamed over one socket, or POST /ai/chat) against the lean fake upstream (first token
// after 1 ms, 2 chunks). Needs the bench database left by `npm run bench -- --keep-db`.
//   node bench/probes/turn-phases.mjs [turns] [stream|rest]   (PHASES_CHAT_DELAY_MS, PHASES_CHUNKS: fake profile)
// PHASES_MODERATION=block|flag (AI_MODERATION) with PHASES_MODERATION_DELAY_MS (the fake's moderation
// latency, default 30): the input check beside the read, and its SDK call, timed too.
// BENCH_DATABASE_URL: another migrated database.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { answerText } from '../lib/answer.mjs';
import { connectSocket, streamViaSocket } from '../lib/clients.mjs';
import { distExports } from '../lib/dist-exports.mjs';
import { claimRedisDb, releaseRedisDb, seedUsers } from '../lib/setup.mjs';
import { median, percentile } from '../lib/stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// BENCH_DIST: another build (a directory under the project, so that it resolves node_modules/).
const DIST = path.resolve(ROOT, process.env.BENCH_DIST ?? 'dist');
const dist = distExports(DIST);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ai_service_bench';
const turns = Number(process.argv[2] ?? 200);
const owner = `phases-${process.pid}`;
const redisIndex = await claimRedisDb('redis://127.0.0.1:6379', 13, owner);

const fake = spawn(
  process.execPath,
  [
    '-r',
    path.join(ROOT, 'bench/lib/child-preload.cjs'),
    path.join(ROOT, 'bench/fake-upstream.mjs'),
    '--ttft-ms',
    '1',
    '--chunks',
    process.env.PHASES_CHUNKS ?? '2',
    '--cadence-ms',
    '0',
    '--chat-delay-ms',
    process.env.PHASES_CHAT_DELAY_MS ?? '1',
    '--moderation-delay-ms',
    process.env.PHASES_MODERATION_DELAY_MS ?? '30',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const fakeUrl = await new Promise((resolve) => fake.stdout.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0]).url)));

const secret = 'bench-jwt-secret-0123456789abcdef';
const env = dist.load('validateEnv')({
  NODE_ENV: 'production',
  PORT: '0',
  DATABASE_URL,
  REDIS_URL: `redis://127.0.0.1:6379/${redisIndex}`,
  REDIS_PREFIX: 'ai-phases',
  JWT_SECRET: secret,
  LOG_LEVEL: 'warn',
  LOG_PRETTY: 'false',
  OPENAI_API_KEY: 'sk-bench',
  OPENAI_BASE_URL: fakeUrl,
  OPENAI_MODEL: 'gpt-4o-mini',
  OPENAI_MAX_RETRIES: '0',
  AI_RATE_LIMIT: '1000000000',
  USER_TOKEN_LIMIT: '2000000000',
  AI_MODERATION: process.env.PHASES_MODERATION ?? 'off',
});
const createApp = dist.load('createApp');
const app = await createApp(env);
const spans = new Map();
const record = (name, ms) => (spans.get(name) ?? spans.set(name, []).get(name)).push(ms);
let arrivedAt = 0;
let handledAt = 0;
// REST: stamps inside step 1, from the request's arrival (Fastify's hooks must be added before listen).
const fastify = app.getHttpAdapter().getInstance();
fastify.addHook('preHandler', (_request, _reply, done) => {
  record('1a   received → body read and parsed (Fastify hooks)', performance.now() - arrivedAt);
  done();
});
wrapAsync(dist.load('JwtAuthGuard'), 'canActivate', '1b   JWT guard', ([context]) => context.getType() === 'http');
const ValidationPipe = Object.getPrototypeOf(dist.load('createValidationPipe')()).constructor;
wrapAsync(ValidationPipe, 'transform', '1c   body validation (ValidationPipe)', ([, metadata]) => metadata?.type === 'body');
await app.listen(0, '127.0.0.1');
const base = await app.getUrl();

function wrapFirstEvent(cls, method, name) {
  const original = cls.prototype[method];
  cls.prototype[method] = async function* (...args) {
    const t = performance.now();
    let first = true;
    for await (const event of original.apply(this, args)) {
      if (first) (record(name, performance.now() - t), (first = false));
      yield event;
    }
  };
}
// `isTimed(args)`: which calls count (a global guard or pipe also runs for sockets and other params).
function wrapAsync(cls, method, name = `${cls.name}.${method}`, isTimed = () => true) {
  const original = cls.prototype[method];
  cls.prototype[method] = async function (...args) {
    const t = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      if (isTimed(args)) record(name, performance.now() - t);
    }
  };
}
const ChatService = dist.load('ChatService');
const ChatTurnRunner = dist.load('ChatTurnRunner');
const ChatTurnRepository = dist.load('ChatTurnRepository');
const RateLimitService = dist.load('RateLimitService');
const OpenAiProvider = dist.load('OpenAiProvider');
const ModerationService = dist.load('ModerationService');
// The runner's steps (ChatTurnRunner: prepare → open ∥ the model call → close).
wrapAsync(RateLimitService, 'assertAllowed', '1 rate limit (Redis), in parallel with 2a');
wrapAsync(ChatTurnRunner, 'prepare', '2 prepare (rate limit ∥ one read ∥ moderation)');
wrapAsync(ChatTurnRepository, 'findTurnContext', '2a   budget + ownership + history read');
if (env.AI_MODERATION !== 'off') {
  wrapAsync(ModerationService, 'checkInput', '2b   input moderation check, beside 2a');
  wrapAsync(OpenAiProvider, 'moderate', '2b     moderation call (SDK + fake)');
}
wrapAsync(ChatTurnRunner, 'open', '3 open (hold + question; overlaps 4)');
// OpenAiProvider's whole and streamed calls are async generators: timed to their first event.
wrapFirstEvent(OpenAiProvider, 'whole', '4 upstream completion (REST, SDK + fake)');
wrapFirstEvent(OpenAiProvider, 'stream', '4 upstream request → first delta (SDK + fake)');
wrapAsync(ChatTurnRunner, 'close', '5 close (answer + counters + settle)');
// REST: the pipeline around the controller (middleware, guards, pipes; then serialisation and the write).
app.getHttpServer().prependListener('request', (req, res) => {
  arrivedAt = performance.now();
  handledAt = 0;
  res.once('finish', () => {
    record('0 server: request received → response written', performance.now() - arrivedAt);
    if (handledAt) record('6 handler returned → response written', performance.now() - handledAt);
  });
});
// ChatService.sendMessage is what the controller calls: its entry marks the end of the pipeline before it.
const originalSend = ChatService.prototype.sendMessage;
ChatService.prototype.sendMessage = async function (...args) {
  record('1 request received → handler (middleware, guards, pipes)', performance.now() - arrivedAt);
  try {
    return await originalSend.apply(this, args);
  } finally {
    handledAt = performance.now();
  }
};

const db = new pg.Client({ connectionString: DATABASE_URL });
await db.connect();
await db.query(`DELETE FROM "User" WHERE email LIKE 'phases-%'`);
await db.end();
const [user] = await seedUsers(DATABASE_URL, 1, { secret, tokenLimit: 2_000_000_000, prefix: 'phases' });
const mode = process.argv[3] ?? 'stream';
// REST turns continue one conversation (as figure 1 does), so the prompt carries AI_HISTORY_LIMIT messages.
let conversationId;
const socket = await connectSocket(base, user.token);
const ttfts = [];
for (let i = 0; i < turns + 20; i++) {
  const tag = `p${i}`;
  const t = performance.now();
  if (mode === 'rest') {
    const res = await fetch(`${base}/api/v1/ai/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: `[${tag}] hi`, conversationId }),
    });
    if (res.status !== 201) throw new Error(`status ${res.status}: ${await res.text()}`);
    ({ conversationId } = await res.json());
    if (i >= 20) ttfts.push(performance.now() - t);
  } else {
    const r = await streamViaSocket(socket, { message: `[${tag}] hi`, expected: answerText(tag, 2) });
    if (!r.ok) throw new Error(r.error);
    if (i >= 20) ttfts.push(r.ttft);
  }
  if (i < 20) spans.clear();
}
const direct = [];
for (let i = 0; i < turns; i++) {
  const t = performance.now();
  const res = await fetch(`${fakeUrl}/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: `[d${i}] hi` }] }),
  });
  const reader = res.body.getReader();
  await reader.read();
  await reader.read();
  direct.push(performance.now() - t);
  while (!(await reader.read()).done);
}
console.log(`${turns} sequential turns, fake TTFT 1 ms; median / p90 ms`);
console.log(`   ${mode === 'rest' ? 'POST /ai/chat latency' : 'socket TTFT'} (client side)`.padEnd(66), median(ttfts).toFixed(2), percentile(ttfts, 90).toFixed(2));
console.log(`   direct fetch TTFT to the fake (no SDK)`.padEnd(66), median(direct).toFixed(2), percentile(direct, 90).toFixed(2));
for (const [name, values] of [...spans].sort()) console.log(`   ${name}`.padEnd(66), median(values).toFixed(2), percentile(values, 90).toFixed(2));
socket.close();
await app.close();
fake.kill();
await releaseRedisDb('redis://127.0.0.1:6379', redisIndex, owner);
process.exit(0);

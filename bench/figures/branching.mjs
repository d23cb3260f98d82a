// Figure 12: conversations that branch.
//   - GET /ai/conversations?q=… (full-text search) for a user with 10,000 conversations and 100,000
//     messages, one client, sequential: p50/p99 (target p99 ≤ 50 ms);
//   - GET /ai/conversations/:id on 1,000-message trees, one client, sequential, p50/p99: a bushy one
//     (a 200-message branch, every message with 4 older versions beside it; target p99 ≤ 10 ms)
//     and a deep one (an 800-message branch, every 4th message with one older version), each for
//     its default branch and for a branch chosen by leafId;
//   - statements of a turn with parentMessageId against a plain one (REST and socket) and of a
//     regenerate, counted on the wire by figure 5's proxy (target: no more than a plain turn).
import { createRequire } from 'node:module';
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { answerText } from '../lib/answer.mjs';
import { connectSocket, postJson, streamViaSocket } from '../lib/clients.mjs';
import { freePort, log, stopProcess } from '../lib/children.mjs';
import { check, f1, missBy } from '../lib/format.mjs';
import { msg } from '../lib/load.mjs';
import { startPgCounterProxy } from '../lib/pg-counter-proxy.mjs';
import { setFakeProfile, startService } from '../lib/services.mjs';
import { percentile } from '../lib/stats.mjs';

const require = createRequire(import.meta.url);
const jwt = require('jsonwebtoken');

const SEARCH_CONVERSATIONS = 10_000;
const SEARCH_PER_CONVERSATION = 10;
// Each message names two of TOPICS topics, so a topic is in ~1% of the messages (~1,000 of them, in
// ~550 conversations): a search with a real result list to rank and page, not a lookup of one row.
const TOPICS = 200;
// Two 1,000-message trees: a chain (the default branch, its end the newest message) and older
// versions of chain messages beside them (siblings: the same parent, created just before).
const TREES = {
  bushy: { chain: 200, siblingsEach: 4, every: 1 },
  deep: { chain: 800, siblingsEach: 1, every: 4 },
};

export async function figureBranching(ctx, statementsUser) {
  const { opts, fake } = ctx;
  const { sizes } = opts;
  const seeded = await seedBranchingUser(opts.databaseUrl, { secret: opts.jwtSecret, tokenLimit: opts.tokenLimit });
  log(
    `fig 12: seeded ${SEARCH_CONVERSATIONS} conversations / ${SEARCH_CONVERSATIONS * SEARCH_PER_CONVERSATION} messages and two 1,000-message trees (${f1(seeded.secs)} s)`,
  );
  const out = { seedSecs: seeded.secs, trees: {} };
  out.statements = await countStatements(ctx, statementsUser);

  const service = await startService(ctx, 'service-branching', { port: await freePort(), fakeUrl: fake.url });
  try {
    const auth = { authorization: `Bearer ${seeded.token}` };
    const get = async (path) => {
      const t0 = performance.now();
      const res = await fetch(`${service.base}${path}`, { headers: auth });
      const body = await res.json();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`fig 12: ${path} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return { ms, body };
    };
    const rounds = sizes.branchingRequests ?? 400;

    // Search: a different topic each request (round robin), so no single posting list stays hot.
    const first = await get(`/api/v1/ai/conversations?q=topic17&limit=20`);
    if (first.body.meta.total < 300 || first.body.data.length !== 20) throw new Error(`fig 12: unexpected search answer: ${JSON.stringify(first.body.meta)}`);
    out.searchTotal = first.body.meta.total;
    for (let i = 0; i < 50; i++) await get(`/api/v1/ai/conversations?q=topic${i % TOPICS}`);
    const search = [];
    for (let i = 0; i < rounds; i++) search.push((await get(`/api/v1/ai/conversations?q=topic${(i * 7) % TOPICS}&limit=20`)).ms);
    out.search = summary(search);
    const plain = [];
    for (let i = 0; i < rounds; i++) plain.push((await get(`/api/v1/ai/conversations?limit=20`)).ms);
    out.plainList = summary(plain);
    log(
      `fig 12 search: p50 ${f1(out.search.p50, 2)} ms, p99 ${f1(out.search.p99, 2)} ms (${out.searchTotal} matches for one topic); plain list p50 ${f1(out.plainList.p50, 2)} ms`,
    );

    // Branch reads: each tree's default (newest) branch, and the branch of an older version half
    // way down the chain by leafId.
    for (const [name, tree] of Object.entries(seeded.trees)) {
      const path = `/api/v1/ai/conversations/${tree.id}`;
      const shown = await get(path);
      const shape = TREES[name];
      const withSiblings = shown.body.messages.filter((m) => m.siblingIds.length === shape.siblingsEach + 1).length;
      if (shown.body.messages.length !== shape.chain || shown.body.messageCount !== tree.size || withSiblings !== shape.chain / shape.every) {
        throw new Error(`fig 12: unexpected ${name} branch: ${shown.body.messages.length} messages of ${shown.body.messageCount}, ${withSiblings} with siblings`);
      }
      const byLeaf = await get(`${path}?leafId=${tree.midSiblingId}`);
      if (byLeaf.body.messages.length !== shape.chain / 2 || byLeaf.body.messages.at(-1).id !== tree.midSiblingId)
        throw new Error(`fig 12: unexpected ${name} branch by leafId`);
      for (let i = 0; i < 50; i++) await get(path);
      const times = [];
      for (let i = 0; i < rounds; i++) times.push((await get(path)).ms);
      const leafTimes = [];
      for (let i = 0; i < rounds; i++) leafTimes.push((await get(`${path}?leafId=${tree.midSiblingId}`)).ms);
      out.trees[name] = {
        size: tree.size,
        branch: shape.chain,
        byLeafBranch: shape.chain / 2,
        siblingsEach: shape.siblingsEach,
        every: shape.every,
        read: summary(times),
        byLeaf: summary(leafTimes),
      };
      log(
        `fig 12 ${name} tree: ${shape.chain}-message branch of ${tree.size}: p50 ${f1(out.trees[name].read.p50, 2)} ms, p99 ${f1(out.trees[name].read.p99, 2)} ms; by leafId (${shape.chain / 2}): p50 ${f1(out.trees[name].byLeaf.p50, 2)} ms, p99 ${f1(out.trees[name].byLeaf.p99, 2)} ms`,
      );
    }
  } finally {
    await stopProcess(service.child);
  }
  ctx.results.figures.branching = out;
}

// A plain REST turn, the same with parentMessageId, a socket turn with it, and a regenerate, on an
// instance whose database connection goes through the counting proxy.
async function countStatements(ctx, user) {
  const { opts, fake } = ctx;
  const proxy = await startPgCounterProxy();
  const proxied = new URL(opts.databaseUrl);
  proxied.port = String(proxy.port);
  const service = await startService(ctx, 'service-branching-statements', { port: await freePort(), fakeUrl: fake.url, env: { DATABASE_URL: proxied.toString() } });
  const out = {};
  try {
    await setFakeProfile(fake, { ttftMs: 5, chunks: 20, cadenceMs: 0, chatDelayMs: 5 });
    const auth = { authorization: `Bearer ${user.token}` };
    const rest = async (label, body) => {
      proxy.take();
      const res = await postJson(`${service.base}/api/v1/ai/chat`, { message: msg(label), ...body }, auth);
      await sleep(300);
      if (!res.ok) throw new Error(`fig 12: ${label} failed: ${JSON.stringify(res.body)}`);
      return { res, counted: proxy.take() };
    };
    const first = await rest('bFirst', {});
    const conversationId = first.res.body.conversationId;
    const second = await rest('bSecond', { conversationId });
    const plainAgain = await rest('bPlain', { conversationId });
    out.restPlain = counts(plainAgain.counted);
    // An edit: the new question follows the first answer, beside the second question.
    out.restParent = counts((await rest('bEdit', { conversationId, parentMessageId: first.res.body.messageId })).counted);

    const socket = await connectSocket(service.base, user.token);
    socket.bench.conversationId = conversationId;
    try {
      const stream = async (label, extra) => {
        proxy.take();
        const res = await streamViaSocket(socket, { message: msg(label), expected: answerText(label, 20), ...extra });
        await sleep(300);
        if (!res.ok) throw new Error(`fig 12: ${label} failed: ${res.error}`);
        return counts(proxy.take());
      };
      out.streamPlain = await stream('bsPlain', {});
      out.streamParent = await stream('bsEdit', { parentMessageId: second.res.body.messageId });
    } finally {
      socket.close();
    }
    proxy.take();
    const regenerated = await postJson(`${service.base}/api/v1/ai/conversations/${conversationId}/messages/${second.res.body.messageId}/regenerate`, {}, auth);
    await sleep(300);
    if (!regenerated.ok) throw new Error(`fig 12: regenerate failed: ${JSON.stringify(regenerated.body)}`);
    out.regenerate = counts(proxy.take());
    for (const [k, v] of Object.entries(out)) log(`fig 12 statements ${k}: ${v.statements} (${v.tags.join(' → ')}), ${v.writeTransactions} write tx`);
  } finally {
    await stopProcess(service.child);
    await proxy.close();
  }
  return out;
}

const counts = ({ statements, writeTransactions, tags }) => ({ statements, writeTransactions, tags });
const summary = (values) => ({ n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values) });

// The search user: SEARCH_CONVERSATIONS conversations of SEARCH_PER_CONVERSATION chained messages,
// each naming two topics; and the two trees of TREES (seedTree).
// Ids are derived (md5 of a label, see md5Uuid), so a parent's id is known in the same INSERT … SELECT.
export async function seedBranchingUser(databaseUrl, { secret, tokenLimit }) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const t0 = performance.now();
  try {
    const id = randomUUID();
    const email = 'bench-branching@bench.local';
    await client.query(`INSERT INTO "User" (id, email, "passwordHash", "tokenLimit", "updatedAt") VALUES ($1, $2, 'not-a-hash', $3, now())`, [id, email, tokenLimit]);
    await client.query(
      `INSERT INTO "Conversation" (id, "userId", title, "messageCount", "totalTokens", "createdAt", "updatedAt")
       SELECT ${idOf(`$1::text || ':c' || g`)}, $1::uuid, 'Chat number ' || g, $3::int, $3::int * 25,
              now() - interval '1 minute' * ($2 - g) - interval '1 day', now() - interval '1 minute' * ($2 - g)
       FROM generate_series(1, $2::int) g`,
      [id, SEARCH_CONVERSATIONS, SEARCH_PER_CONVERSATION],
    );
    await client.query(
      `INSERT INTO "Message" (id, "conversationId", "parentId", role, content, tokens, model, status, "createdAt")
       SELECT ${idOf(`$1::text || ':c' || g || ':m' || m`)}, ${idOf(`$1::text || ':c' || g`)},
              CASE WHEN m > 1 THEN ${idOf(`$1::text || ':c' || g || ':m' || (m - 1)`)} END,
              CASE WHEN m % 2 = 1 THEN 'USER'::"Role" ELSE 'ASSISTANT'::"Role" END,
              'Note ' || m || ' on topic' || (g % $3::int) || ' and topic' || ((g * 7 + m) % $3::int) || ', about as long as a short chat line.',
              25, CASE WHEN m % 2 = 0 THEN 'gpt-4o-mini' END, 'complete', now() - interval '2 days' + interval '1 second' * (g * 20 + m)
       FROM generate_series(1, $2::int) g CROSS JOIN generate_series(1, $4::int) m`,
      [id, SEARCH_CONVERSATIONS, TOPICS, SEARCH_PER_CONVERSATION],
    );
    const trees = {};
    for (const [name, shape] of Object.entries(TREES)) trees[name] = await seedTree(client, id, name, shape);
    await client.query('ANALYZE');
    const token = jwt.sign({ sub: id, email, typ: 'access' }, secret, { algorithm: 'HS256', expiresIn: '3h' });
    return { id, token, trees, secs: (performance.now() - t0) / 1000 };
  } finally {
    await client.end();
  }
}

// One tree: the chain (message i follows i - 1), and `siblingsEach` older versions of every
// `every`-th chain message, with the same parent. Returns its id, its size and an older version half
// way down the chain (whose branch is half the chain).
async function seedTree(client, userId, name, { chain, siblingsEach, every }) {
  const id = md5Uuid(`${userId}:${name}`);
  const size = chain + (chain / every) * siblingsEach;
  await client.query(
    `INSERT INTO "Conversation" (id, "userId", title, "messageCount", "totalTokens", "createdAt", "updatedAt")
     VALUES ($1, $2, $3, $4::int, $4::int * 25, now() - interval '3 days', now() - interval '3 days')`,
    [id, userId, `A ${name} tree`, size],
  );
  await client.query(
    `INSERT INTO "Message" (id, "conversationId", "parentId", role, content, tokens, model, status, "createdAt")
     SELECT ${idOf(`$1::text || ':t' || i`)}, $1::uuid, CASE WHEN i > 1 THEN ${idOf(`$1::text || ':t' || (i - 1)`)} END,
            CASE WHEN i % 2 = 1 THEN 'USER'::"Role" ELSE 'ASSISTANT'::"Role" END,
            'Tree message ' || i || ', about as long as a short chat line of a long conversation.', 25,
            CASE WHEN i % 2 = 0 THEN 'gpt-4o-mini' END, 'complete'::"MessageStatus", now() - interval '3 days' + interval '1 second' * i
     FROM generate_series(1, $2::int) i
     UNION ALL
     SELECT ${idOf(`$1::text || ':s' || i || ':' || j`)}, $1::uuid, CASE WHEN i > 1 THEN ${idOf(`$1::text || ':t' || (i - 1)`)} END,
            CASE WHEN i % 2 = 1 THEN 'USER'::"Role" ELSE 'ASSISTANT'::"Role" END,
            'An earlier version (' || j || ') of tree message ' || i || '.', 25,
            CASE WHEN i % 2 = 0 THEN 'gpt-4o-mini' END, 'complete'::"MessageStatus",
            now() - interval '3 days' + interval '1 second' * i - interval '100 milliseconds' * (5 - j)
     FROM generate_series($3::int, $2::int, $3::int) i CROSS JOIN generate_series(1, $4::int) j`,
    [id, chain, every, siblingsEach],
  );
  return { id, size, midSiblingId: md5Uuid(`${id}:s${chain / 2}:1`) };
}

// The seed's ids: md5 of a label, shaped as a version-4 UUID (the routes' ParseUUIDPipe checks the
// version and variant digits). idOf builds it in SQL, md5Uuid the same in JavaScript.
const idOf = (label) => `overlay(overlay(md5(${label}) placing '4' from 13) placing '8' from 17)::uuid`;
function md5Uuid(text) {
  const md5 = createHash('md5').update(text).digest('hex');
  const hex = `${md5.slice(0, 12)}4${md5.slice(13, 16)}8${md5.slice(17)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function branchingRows(F, add) {
  const B = F.branching;
  if (!B) return;
  add(
    '12 GET /ai/conversations?q= (10,000 conversations, 100,000 messages)',
    'latency p50 / p99, one client',
    `${f1(B.search.p50, 2)} / ${f1(B.search.p99, 2)} ms (${B.searchTotal} matches)`,
    'p99 ≤ 50 ms',
    check(B.search.p99, '<=', 50) + missBy(B.search.p99, 50),
  );
  for (const [name, T] of Object.entries(B.trees)) {
    const isTarget = name === 'bushy';
    add(
      `12 GET /ai/conversations/:id, ${T.branch}-message branch of a ${T.size}-message ${name} tree`,
      'latency p50 / p99, one client',
      `${f1(T.read.p50, 2)} / ${f1(T.read.p99, 2)} ms (leafId, ${T.byLeafBranch} messages: ${f1(T.byLeaf.p50, 2)} / ${f1(T.byLeaf.p99, 2)} ms)`,
      isTarget ? 'p99 ≤ 10 ms' : '(reported)',
      isTarget ? check(T.read.p99, '<=', 10) + missBy(T.read.p99, 10) : '',
    );
  }
  const S = B.statements;
  const ok = S.restParent.statements <= S.restPlain.statements && S.streamParent.statements <= S.streamPlain.statements;
  add(
    '12 DB per turn with parentMessageId',
    'statements: REST plain / edit; socket plain / edit; regenerate',
    `${S.restPlain.statements} / ${S.restParent.statements}; ${S.streamPlain.statements} / ${S.streamParent.statements}; ${S.regenerate.statements}`,
    'edit ≤ plain',
    ok ? '✅' : '❌',
  );
}

export function branchingDetails(F) {
  const B = F.branching;
  if (!B) return '';
  const lines = Object.entries(B.statements).map(([k, v]) => `- \`${k}\`: ${v.tags.join(' → ')}`);
  return `### Conversations that branch

- seeding: ${f1(B.seedSecs)} s; the plain list for the same user: p50 ${f1(B.plainList.p50, 2)} ms, p99 ${f1(B.plainList.p99, 2)} ms
- search: ${B.search.n} requests, max ${f1(B.search.max, 2)} ms
- trees: ${Object.entries(B.trees)
    .map(
      ([name, T]) =>
        `${name}: ${T.branch}-message chain, ${T.siblingsEach} older version(s) beside every ${T.every === 1 ? '' : `${T.every}th `}message; default branch max ${f1(T.read.max, 2)} ms`,
    )
    .join('; ')}
- statements per turn, as seen on the wire:
${lines.join('\n')}
`;
}

// Evidence for the fixes recommended in docs/performance.md, without touching src/ or dist/:
// copies dist/ to node_modules/.cache/ai-bench-patched/dist (so module resolution still finds
// node_modules) and applies each fix as a textual patch of the compiled JS, failing loudly if
// the compiled code no longer matches. Then:
//   npm run bench -- --no-build --dist node_modules/.cache/ai-bench-patched/dist --only 1,3,4
//   node bench/tools/prototype-fixes.mjs [--only jwt,preflight,overlap,reads,writes] [--out node_modules/.cache/<dir>/dist]
// The patches are prototypes of the src/ changes, not production code (see docs/performance.md).
// They were written against the build of commit fb2b9f3 (before the token-budget hold of c85876c
// and the KeyObject JWT secret of 49f5baa); on later code an anchor may be gone, and the script
// says which instead of patching half-way.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outArg = process.argv.indexOf('--out');
const OUT = path.resolve(ROOT, outArg > 0 ? process.argv[outArg + 1] : 'node_modules/.cache/ai-bench-patched/dist');
if (!OUT.startsWith(path.join(ROOT, 'node_modules') + path.sep)) throw new Error('--out must be under node_modules/ (module resolution, and never committed)');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1].split(',')) : null;
const enabled = (name) => !only || only.has(name);

rmSync(OUT, { recursive: true, force: true });
cpSync(path.join(ROOT, 'dist'), OUT, { recursive: true });

function patch(file, pairs) {
  const full = path.join(OUT, file);
  let text = readFileSync(full, 'utf8');
  for (const [from, to] of pairs) {
    if (!text.includes(from)) throw new Error(`prototype-fixes: anchor not found in ${file}:\n${from}`);
    text = text.replace(from, to);
  }
  writeFileSync(full, text);
}

// 1. jwt: the HS256 secret as a KeyObject. jsonwebtoken 9 first tries createPublicKey() on a
//    string/Buffer secret, which throws (and builds an exception) on every verify.
if (enabled('jwt')) {
  const key = `require('node:crypto').createSecretKey(Buffer.from(config.get('JWT_SECRET')))`;
  patch('auth/auth.module.js', [["secret: config.get('JWT_SECRET'),", `secret: ${key},`]]);
  patch('auth/jwt.strategy.js', [["secretOrKey: config.get('JWT_SECRET'),", `secretOrKey: ${key},`]]);
}

// 2. preflight: the socket's rate-limit check joins the parallel pre-flight reads.
// 3. overlap: the upstream request starts as soon as the reads are done, while the user message
//    is being written; chat:user-message still goes out before the first chunk.
if (enabled('preflight') || enabled('overlap')) {
  patch('ai/chat/chat.service.js', [
    [
      "            idempotencyKey ? this.conversationRepository.findMessageByIdempotencyKey(`${idempotencyKey}:user`) : null,\n        ]);",
      "            idempotencyKey ? this.conversationRepository.findMessageByIdempotencyKey(`${idempotencyKey}:user`) : null,\n            request.preflight,\n        ]);",
    ],
    [
      `        const userMessage = reusedUserMessage ?? (await this.storeUserMessage(userId, dto, idempotencyKey));
        const priorMessages = reusedUserMessage ? history.filter((m) => m.id !== reusedUserMessage.id) : history;
        return {
            userId,
            conversationId: userMessage.conversationId,
            isNewConversation: !conversationId,
            userMessage,
            llmMessages: this.buildPrompt(priorMessages, userMessage.content),`,
      `        const pending = reusedUserMessage ? Promise.resolve(reusedUserMessage) : this.storeUserMessage(userId, dto, idempotencyKey);
        const priorMessages = reusedUserMessage ? history.filter((m) => m.id !== reusedUserMessage.id) : history;
        const turn = {
            userId,
            conversationId,
            isNewConversation: !conversationId,
            userMessage: undefined,
            llmMessages: this.buildPrompt(priorMessages, dto.message),`,
    ],
    [
      `            context: { transport: request.transport, userId, requestId: request.requestId },
            idempotencyKey,
        };
    }`,
      `            context: { transport: request.transport, userId, requestId: request.requestId },
            idempotencyKey,
        };
        turn.userMessageReady = pending.then((m) => ((turn.userMessage = m), (turn.conversationId = m.conversationId), m));
        if (!request.deferUserMessage) await turn.userMessageReady;
        return turn;
    }`,
    ],
  ]);
  // The prompt is built from dto.message (identical to the stored content). The new array slot
  // sits after the four reads, so the destructuring above is unchanged.
}
if (enabled('overlap')) {
  patch('ai/chat/chat.service.js', [
    [
      `        const turn = await this.beginTurn(userId, dto, request);
        const result = await this.llm.generateCompletion(turn.llmMessages, turn.options, turn.context);`,
      `        const turn = await this.beginTurn(userId, dto, { ...request, deferUserMessage: true });
        const [result] = await Promise.all([this.llm.generateCompletion(turn.llmMessages, turn.options, turn.context), turn.userMessageReady]);`,
    ],
  ]);
}
if (enabled('preflight') || enabled('overlap')) {
  const rateLimit = enabled('preflight')
    ? `preflight: this.rateLimits.assertAllowed('ai', userId)`
    : `preflight: undefined`;
  const before = enabled('preflight') ? '' : `            await this.rateLimits.assertAllowed('ai', userId);\n`;
  const defer = enabled('overlap') ? 'deferUserMessage: true, ' : '';
  patch('ai/stream/chat-stream.service.js', [
    [
      `            await this.rateLimits.assertAllowed('ai', userId);
            turn = await this.chat.beginTurn(userId, dto, { transport: 'ws', requestId: (0, node_crypto_1.randomUUID)() });`,
      `${before}            turn = await this.chat.beginTurn(userId, dto, { transport: 'ws', requestId: (0, node_crypto_1.randomUUID)(), ${defer}${rateLimit} });
            const events = this.llm.streamCompletion(turn.llmMessages, turn.options, turn.context, stream.controller.signal)[Symbol.asyncIterator]();
            const first = events.next(); // starts the upstream request now
            first.catch(() => undefined);
            try {
                await turn.userMessageReady;
            }
            catch (error) {
                stream.controller.abort();
                await first.catch(() => undefined);
                throw error;
            }`,
    ],
    [
      `            for await (const event of this.llm.streamCompletion(turn.llmMessages, turn.options, turn.context, stream.controller.signal)) {`,
      `            for (let step = await first; !step.done; step = await events.next()) {
                const event = step.value;`,
    ],
  ]);
}

// 5. reads: budget, ownership and history in one SQL statement instead of three Prisma queries
//    (each ~0.4-0.8 ms of CPU through the query compiler + adapter), when a conversation continues.
if (enabled('reads')) {
  patch('ai/chat/chat.service.js', [
    [
      `        const [, , history, reusedUserMessage] = await Promise.all([`,
      `        const errors = require('../../common/errors/app-error');
        const preflightReads = async () => {
            const [row] = await this.prisma.$queryRawUnsafe(
                \`SELECT u."totalTokensUsed" AS used, u."tokenLimit" AS lim,
                        EXISTS (SELECT 1 FROM "Conversation" c WHERE c.id = $2::uuid AND c."userId" = $1::uuid) AS owned,
                        (SELECT COALESCE(json_agg(h ORDER BY h."createdAt", h.id), '[]'::json)::text FROM (
                            SELECT m.id, m.role::text AS role, m.content, m.status::text AS status, m."createdAt"
                            FROM "Message" m WHERE m."conversationId" = $2::uuid
                            ORDER BY m."createdAt" DESC, m.id DESC LIMIT $3::int) h) AS history
                 FROM "User" u WHERE u.id = $1::uuid\`, userId, conversationId, historyLimit);
            if (!row) throw new errors.NotFoundError('User');
            if (row.used >= row.lim) throw new errors.TokenLimitExceededError();
            if (!row.owned) throw new errors.NotFoundError('Conversation');
            return JSON.parse(row.history);
        };
        const [, , history, reusedUserMessage] = conversationId && !idempotencyKey && historyLimit > 0
            ? await Promise.all([undefined, undefined, preflightReads(), null, request.preflight])
            : await Promise.all([`,
    ],
  ]);
}

// 4. writes: each write becomes one SQL statement (a CTE) instead of a Prisma interactive
//    transaction (BEGIN, INSERT, UPDATE[, UPDATE], COMMIT: 4-5 round trips + ~2.5 ms CPU).
if (enabled('writes')) {
  const insert = (conversation, extraCte = '') => `
            const now = new Date();
            const [row] = await (db ?? this.prisma).$queryRawUnsafe(
                \`WITH c AS (UPDATE "Conversation" SET "messageCount" = "messageCount" + 1, "totalTokens" = "totalTokens" + $3::int, "updatedAt" = $10::timestamp(3)
                             WHERE id = $1::uuid RETURNING id)${extraCte}
                  INSERT INTO "Message" (id, "conversationId", role, content, tokens, "tokensEstimated", model, status, "idempotencyKey", "createdAt")
                  SELECT gen_random_uuid(), c.id, $2::"Role", $4::text, $5::int, $6::boolean, $7::text, $8::"MessageStatus", $9::text, $10::timestamp(3) FROM c
                  RETURNING id, "conversationId", role::text AS role, content, tokens, "tokensEstimated", model, status::text AS status, "idempotencyKey", "createdAt"\`,
                ${conversation}, message.role, message.tokens ?? 0, message.content, message.tokens ?? null, message.tokensEstimated ?? false,
                message.model ?? null, message.status ?? 'complete', message.idempotencyKey ?? null, now, ...extra);
            if (!row) throw new Error('conversation not found');
            return row;`;
  patch('ai/conversations/conversation.repository.js', [
    [
      `    async appendMessage(conversationId, message, db) {
        const write = async (tx) => {`,
      `    async appendMessage(conversationId, message, db, extraCte = '', extra = []) {${insert('conversationId', '${extraCte}')}
        const write = async (tx) => {`,
    ],
  ]);
  patch('ai/chat/chat.service.js', [
    [
      `        return this.prisma.$transaction(async (tx) => {
            const message = await this.conversationRepository.appendMessage(turn.conversationId, {`,
      `        const answer = {
                role: 'ASSISTANT',
                content: outcome.content,
                tokens,
                tokensEstimated: tokens !== null && outcome.usage.isEstimated,
                model: outcome.model,
                status: outcome.status,
                idempotencyKey: turn.idempotencyKey ? \`\${turn.idempotencyKey}:assistant\` : null,
            };
        // The user's counters in the same statement ($11: user id; skipped when no tokens count).
        return this.conversationRepository.appendMessage(turn.conversationId, answer, undefined,
            \`, u AS (UPDATE "User" SET "totalTokensUsed" = "totalTokensUsed" + $3::int, "lastAiCallAt" = $10::timestamp(3), "updatedAt" = $10::timestamp(3)
                      WHERE id = $11::uuid AND $5::int IS NOT NULL RETURNING id)\`, [turn.userId]);
        return this.prisma.$transaction(async (tx) => {
            const message = await this.conversationRepository.appendMessage(turn.conversationId, {`,
    ],
  ]);
}

console.log(`patched build: ${path.relative(ROOT, OUT)} (${only ? [...only].join(', ') : 'jwt, preflight, overlap, reads, writes'})`);

-- Cost columns, and one usage ledger for every AI call (chat answers and embeddings) in place of
-- the embeddings-only EmbeddingRecord. Existing usage is kept: embedding records move over as they
-- are, and every counted assistant message becomes a chat record (its prompt/completion split and
-- cost were not stored, so they read 0 / its tokens / no price).

-- AlterTable
ALTER TABLE "Conversation" ADD COLUMN     "totalCostUsd" DOUBLE PRECISION NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "completionTokens" INTEGER,
ADD COLUMN     "costUsd" DOUBLE PRECISION,
ADD COLUMN     "promptTokens" INTEGER;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "totalCostUsd" DOUBLE PRECISION NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "UsageRecord" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "promptTokens" INTEGER NOT NULL,
    "completionTokens" INTEGER NOT NULL,
    "tokens" INTEGER NOT NULL,
    "costUsd" DOUBLE PRECISION,
    "idempotencyKey" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UsageRecord_pkey" PRIMARY KEY ("id")
);

-- Existing usage
INSERT INTO "UsageRecord" ("id", "userId", "kind", "model", "promptTokens", "completionTokens", "tokens", "costUsd", "idempotencyKey", "createdAt")
SELECT "id", "userId", 'embedding', "model", "tokens", 0, "tokens", NULL, "idempotencyKey", "createdAt" FROM "EmbeddingRecord";

INSERT INTO "UsageRecord" ("id", "userId", "kind", "model", "promptTokens", "completionTokens", "tokens", "costUsd", "idempotencyKey", "createdAt")
SELECT m."id", c."userId", 'chat', COALESCE(m."model", ''), 0, m."tokens", m."tokens", NULL, m."idempotencyKey", m."createdAt"
FROM "Message" m JOIN "Conversation" c ON c."id" = m."conversationId"
WHERE m."role" = 'ASSISTANT' AND m."tokens" IS NOT NULL;

-- DropTable
ALTER TABLE "EmbeddingRecord" DROP CONSTRAINT "EmbeddingRecord_userId_fkey";
DROP TABLE "EmbeddingRecord";

-- CreateIndex
CREATE UNIQUE INDEX "UsageRecord_idempotencyKey_key" ON "UsageRecord"("idempotencyKey");

-- CreateIndex
CREATE INDEX "UsageRecord_userId_createdAt_idx" ON "UsageRecord"("userId", "createdAt");

-- AddForeignKey
ALTER TABLE "UsageRecord" ADD CONSTRAINT "UsageRecord_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- DropIndex
DROP INDEX "Conversation_userId_updatedAt_idx";

-- AlterTable
ALTER TABLE "Conversation" ADD COLUMN     "archived" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "pinned" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "parentId" UUID;

-- CreateIndex
CREATE INDEX "Conversation_userId_archived_pinned_updatedAt_idx" ON "Conversation"("userId", "archived", "pinned" DESC, "updatedAt" DESC);

-- CreateIndex
CREATE INDEX "Message_parentId_createdAt_idx" ON "Message"("parentId", "createdAt");

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Message"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing conversations were flat lists: each message follows the one created before it.
UPDATE "Message" AS m
SET "parentId" = ordered."previousId"
FROM (
    SELECT "id", lag("id") OVER (PARTITION BY "conversationId" ORDER BY "createdAt", "id") AS "previousId"
    FROM "Message"
) AS ordered
WHERE m."id" = ordered."id" AND ordered."previousId" IS NOT NULL;

-- Full-text search over messages and titles (GET /conversations?q=). A message's vector is stored
-- (generated from its content), so ranking the hits never parses their text again; a title's is an
-- expression index, as titles are short. Not declared in schema.prisma: Prisma has no tsvector type.
ALTER TABLE "Message" ADD COLUMN "searchVector" tsvector GENERATED ALWAYS AS (to_tsvector('english', "content")) STORED;
CREATE INDEX "Message_searchVector_idx" ON "Message" USING gin ("searchVector");
CREATE INDEX "Conversation_title_search_idx" ON "Conversation" USING gin (to_tsvector('english', coalesce("title", '')));

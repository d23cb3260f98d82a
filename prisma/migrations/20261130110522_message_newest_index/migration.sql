-- The turn's read takes a conversation's newest message ordered by (createdAt, id): with id in the
-- index it reads one entry; without it, it fetched and sorted every message of the conversation.

-- DropIndex
DROP INDEX "Message_conversationId_createdAt_idx";

-- CreateIndex
CREATE INDEX "Message_conversationId_createdAt_id_idx" ON "Message"("conversationId", "createdAt", "id");

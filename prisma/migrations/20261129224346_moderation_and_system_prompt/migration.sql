-- AlterTable
ALTER TABLE "Conversation" ADD COLUMN     "systemPrompt" TEXT;

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "categories" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "flagged" BOOLEAN NOT NULL DEFAULT false;

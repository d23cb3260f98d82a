-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "contentTokens" INTEGER;

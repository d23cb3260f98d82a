-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "citations" JSONB;

-- Roles and disabled accounts, the admin audit log, and the daily usage rollup (per user, UTC day
-- and model), filled from the usage ledger so that days before this migration read the same.

-- CreateEnum
CREATE TYPE "UserRole" AS ENUM ('user', 'admin');

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "disabled" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "role" "UserRole" NOT NULL DEFAULT 'user';

-- CreateTable
CREATE TABLE "UsageDaily" (
    "userId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "model" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "promptTokens" INTEGER NOT NULL DEFAULT 0,
    "completionTokens" INTEGER NOT NULL DEFAULT 0,
    "totalTokens" INTEGER NOT NULL DEFAULT 0,
    "costUsd" DOUBLE PRECISION,

    CONSTRAINT "UsageDaily_pkey" PRIMARY KEY ("userId","day","model")
);

-- CreateTable
CREATE TABLE "AdminAuditLog" (
    "id" UUID NOT NULL,
    "actorId" UUID,
    "actorEmail" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "targetId" UUID NOT NULL,
    "targetEmail" TEXT NOT NULL,
    "before" JSONB NOT NULL,
    "after" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AdminAuditLog_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "UsageDaily_day_idx" ON "UsageDaily"("day");

-- CreateIndex
CREATE INDEX "AdminAuditLog_createdAt_idx" ON "AdminAuditLog"("createdAt" DESC);

-- AddForeignKey
ALTER TABLE "UsageDaily" ADD CONSTRAINT "UsageDaily_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing usage: the ledger rolled up by UTC day and model.
INSERT INTO "UsageDaily" ("userId", "day", "model", "requests", "promptTokens", "completionTokens", "totalTokens", "costUsd")
SELECT "userId", ("createdAt" AT TIME ZONE 'UTC')::date, "model", count(*), sum("promptTokens"), sum("completionTokens"), sum("tokens"), sum("costUsd")
FROM "UsageRecord"
GROUP BY "userId", ("createdAt" AT TIME ZONE 'UTC')::date, "model";

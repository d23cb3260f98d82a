-- AlterTable
ALTER TABLE "User" ADD COLUMN     "reservationExpiresAt" TIMESTAMPTZ(3),
ADD COLUMN     "reservedTokens" INTEGER NOT NULL DEFAULT 0;

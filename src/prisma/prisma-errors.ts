import { Prisma } from '../generated/prisma/client';

export const isUniqueViolation = (error: unknown): boolean => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

// An update or delete whose row does not exist.
export const isRecordNotFound = (error: unknown): boolean => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025';

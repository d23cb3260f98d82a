import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../src/generated/prisma/client';

// A Prisma client of this run's database for tests whose app runs elsewhere (a child process, or
// behind a proxy that is cut): reads rows independently of the app under test.
export function openTestDb(connectionString = process.env.TEST_DATABASE_URL!): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 4 }) });
}

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { createApp } from '../../src/app.setup';
import { validateEnv } from '../../src/config/env.schema';
import { PrismaService } from '../../src/prisma/prisma.service';
import { baseTestEnv } from './test-env';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  http: TestAgent;
  prisma: PrismaService;
  env: Record<string, string | undefined>;
  close(): Promise<void>;
}

// Boots the real AppModule through the same createApp() as main.ts, listening on a free port.
export async function startTestApp(overrides: Record<string, string | undefined> = {}): Promise<TestApp> {
  const env = baseTestEnv(overrides);
  const app = await createApp(validateEnv(env));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    url,
    env,
    http: request(url),
    prisma: app.get(PrismaService),
    close: () => app.close(),
  };
}

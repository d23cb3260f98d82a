import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { AppProcess, startAppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, uniqueEmail } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents, streamedText } from '../support/ws-client';

// Two real instances on one Redis and one database: an admin's change on one reaches the other.
describe('disabling an account across instances (e2e)', () => {
  const REDIS_PREFIX = `t${randomBytes(4).toString('hex')}`;
  const adminEmail = uniqueEmail('root');
  let fake: FakeLlm;
  let a: TestApp;
  let b: AppProcess;

  beforeAll(async () => {
    fake = await startFakeLlm();
    const shared = { REDIS_PREFIX, OPENAI_BASE_URL: fake.baseUrl, ADMIN_EMAILS: adminEmail };
    [a, b] = await Promise.all([startTestApp(shared), startAppProcess(shared)]);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.close();
    await fake.close();
  });

  it('refuses the tokens, closes the sockets and stops the stream on the other instance at once', async () => {
    const adminRes = await a.http.post('/api/v1/auth/register').send({ email: adminEmail, password: 'correct horse battery' }).expect(201);
    const adminAuth = { Authorization: `Bearer ${adminRes.body.accessToken}` };
    const user = await registerUser(a);
    const onB = request(b.url);
    await onB.get('/api/v1/auth/me').set(user.auth).expect(200);

    const socket = await connectSocket(b.url, user.accessToken);
    const events = recordEvents(socket);
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    fake.enqueue({ chunks: Array.from({ length: 200 }, (_, i) => `b${i} `), chunkDelayMs: 20 });
    socket.emit('chat:start', { message: 'stream on instance B' });
    await eventually(() => events.filter((e) => e.event === 'chat:message').length >= 2);

    await a.http.patch(`/api/v1/admin/users/${user.id}`).set(adminAuth).send({ disabled: true }).expect(200);

    expect(await closed).toBe('io server disconnect');
    await eventually(async () => (await onB.get('/api/v1/auth/me').set(user.auth)).status === 401, 2_000);
    await onB.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi' }).expect(401);
    await expect(connectSocket(b.url, user.accessToken)).rejects.toThrow('Unauthorized');
    expect((await onB.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401)).body.message).toBe('Account disabled');
    const message = await eventually(() => a.prisma.message.findFirst({ where: { role: 'ASSISTANT', conversation: { userId: user.id } } }));
    expect(message.status).toBe('stopped');
    expect(message.content.startsWith(streamedText(events))).toBe(true);

    // Enabled again on A: B lets the same access token in again.
    await a.http.patch(`/api/v1/admin/users/${user.id}`).set(adminAuth).send({ disabled: false }).expect(200);
    await eventually(async () => (await onB.get('/api/v1/auth/me').set(user.auth)).status === 200, 2_000);
  });

  it('an instance that starts after the change loads it', async () => {
    const adminLogin = await a.http.post('/api/v1/auth/login').send({ email: adminEmail, password: 'correct horse battery' }).expect(200);
    const user = await registerUser(a);
    await a.http
      .patch(`/api/v1/admin/users/${user.id}`)
      .set({ Authorization: `Bearer ${adminLogin.body.accessToken}` })
      .send({ disabled: true })
      .expect(200);
    const late = await startAppProcess({ REDIS_PREFIX, OPENAI_BASE_URL: fake.baseUrl });
    try {
      await request(late.url).get('/api/v1/auth/me').set(user.auth).expect(401);
    } finally {
      await late.stop();
    }
  });
});

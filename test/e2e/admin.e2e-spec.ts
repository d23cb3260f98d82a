import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AI_JOBS_QUEUE } from '../../src/ai/jobs/ai-jobs.constants';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser, uniqueEmail } from '../support/factories';
import { eventually } from '../support/eventually';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents, streamedText } from '../support/ws-client';

const anyId = expect.stringMatching(/^[0-9a-f-]{36}$/);
const anyDate = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
const today = () => new Date().toISOString().slice(0, 10);

describe('admin routes (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let admin: TestUser;
  const adminEmail = uniqueEmail('root');

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, ADMIN_EMAILS: `someone@example.com, ${adminEmail.toUpperCase()}`, AI_QUEUE_CONCURRENCY: '1' });
    const res = await t.http.post('/api/v1/auth/register').send({ email: adminEmail, password: 'correct horse battery', name: 'Root' }).expect(201);
    admin = {
      id: res.body.user.id,
      email: adminEmail,
      password: 'correct horse battery',
      accessToken: res.body.accessToken,
      refreshToken: res.body.refreshToken,
      auth: { Authorization: `Bearer ${res.body.accessToken}` },
    };
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const patch = (user: TestUser, id: string, body: object) => t.http.patch(`/api/v1/admin/users/${id}`).set(user.auth).send(body);

  describe('roles', () => {
    it('makes ADMIN_EMAILS accounts admins at register and shows role on /auth/me', async () => {
      const me = await t.http.get('/api/v1/auth/me').set(admin.auth).expect(200);
      expect(me.body).toEqual({ id: admin.id, email: adminEmail, name: 'Root', totalTokensUsed: 0, tokenLimit: 1_000_000, role: 'admin', createdAt: anyDate });
      const user = await registerUser(t);
      expect((await t.http.get('/api/v1/auth/me').set(user.auth).expect(200)).body.role).toBe('user');
    });

    it('makes an account listed after it registered an admin at its next login', async () => {
      const email = uniqueEmail('late');
      const plain = await startTestApp();
      try {
        await plain.http.post('/api/v1/auth/register').send({ email, password: 'correct horse battery' }).expect(201);
      } finally {
        await plain.close();
      }
      expect((await t.prisma.user.findUniqueOrThrow({ where: { email } })).role).toBe('user');
      const login = await t.http.post('/api/v1/auth/login').send({ email, password: 'correct horse battery' }).expect(200);
      expect((await t.prisma.user.findUniqueOrThrow({ where: { email } })).role).toBe('user');
      const listed = await startTestApp({ ADMIN_EMAILS: email });
      try {
        await listed.http.post('/api/v1/auth/login').send({ email, password: 'correct horse battery' }).expect(200);
      } finally {
        await listed.close();
      }
      expect(
        (
          await t.http
            .get('/api/v1/auth/me')
            .set({ Authorization: `Bearer ${login.body.accessToken}` })
            .expect(200)
        ).body.role,
      ).toBe('admin');
    });

    it('npm run user:role changes a role from the shell, audits it, and fails clearly on an unknown e-mail or role', async () => {
      const user = await registerUser(t);
      const run = (...args: string[]) =>
        promisify(execFile)(process.execPath, ['scripts/user-role.mjs', ...args], { env: { ...process.env, DATABASE_URL: t.env.DATABASE_URL } }).then(
          ({ stdout }) => ({ code: 0, out: stdout }),
          (error: { code: number; stderr: string }) => ({ code: error.code, out: error.stderr }),
        );
      expect(await run(user.email.toUpperCase(), 'admin')).toEqual({ code: 0, out: `${user.email}: user → admin\n` });
      expect((await t.http.get('/api/v1/auth/me').set(user.auth).expect(200)).body.role).toBe('admin');
      await t.http.get('/api/v1/admin/users').set(user.auth).expect(200);
      expect(await run(user.email, 'admin')).toEqual({ code: 0, out: `${user.email} is already admin\n` });
      expect(await run('nobody@example.com', 'admin')).toEqual({ code: 1, out: 'no account with the e-mail nobody@example.com\n' });
      expect(await run(user.email, 'root')).toEqual({ code: 1, out: 'unknown role "root": use admin or user\n' });
      expect(await run(user.email)).toEqual({ code: 1, out: 'usage: npm run user:role -- <email> admin|user\n' });
      expect(await run(user.email, 'user')).toEqual({ code: 0, out: `${user.email}: admin → user\n` });
      await t.http.get('/api/v1/admin/users').set(user.auth).expect(403);
      const audit = await t.prisma.adminAuditLog.findMany({ where: { targetId: user.id }, orderBy: { createdAt: 'asc' } });
      expect(audit.map((row) => [row.actorId, row.actorEmail, row.before, row.after])).toEqual([
        [null, 'cli', { role: 'user' }, { role: 'admin' }],
        [null, 'cli', { role: 'admin' }, { role: 'user' }],
      ]);
    });
  });

  describe('authorisation', () => {
    it.each([
      ['get', '/api/v1/admin/users'],
      ['get', '/api/v1/admin/usage'],
      ['get', '/api/v1/admin/audit'],
      ['patch', '/api/v1/admin/users/00000000-0000-4000-8000-000000000000'],
    ] as const)('%s %s answers 403 to a user and 401 without a token', async (method, path) => {
      const user = await registerUser(t);
      const refused = await t.http[method](path)
        .set(user.auth)
        .send(method === 'patch' ? { tokenLimit: 5 } : undefined)
        .expect(403);
      expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Admin role required' });
      await t.http[method](path).expect(401);
    });

    it('a demoted admin loses access at once, with the same token', async () => {
      const other = await registerUser(t, 'second-admin');
      await patch(admin, other.id, { role: 'admin' }).expect(200);
      await t.http.get('/api/v1/admin/users').set(other.auth).expect(200);
      await patch(admin, other.id, { role: 'user' }).expect(200);
      await t.http.get('/api/v1/admin/users').set(other.auth).expect(403);
    });
  });

  describe('GET /admin/users', () => {
    it('pages and searches accounts with their usage and cost', async () => {
      const tag = `find${Date.now()}`;
      const a = await registerUser(t, `${tag}-a`);
      await registerUser(t, `${tag}-b`);
      fake.enqueue({ usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
      await t.http.post('/api/v1/ai/chat').set(a.auth).send({ message: 'hi' }).expect(201);
      const res = await t.http.get(`/api/v1/admin/users?q=${tag.toUpperCase()}&limit=1&page=2`).set(admin.auth).expect(200);
      expect(res.body).toEqual({
        data: [
          {
            id: a.id,
            email: a.email,
            name: `${tag}-a`,
            role: 'user',
            disabled: false,
            tokenLimit: 1_000_000,
            totalTokensUsed: 15,
            totalCostUsd: expect.closeTo((10 * 30 + 5 * 60) / 1e6, 12),
            lastActiveAt: anyDate,
            createdAt: anyDate,
          },
        ],
        meta: { total: 2, page: 2, limit: 1, totalPages: 2 },
      });
    });

    it.each(['?limit=0', '?limit=101', '?page=0', '?q=' + 'x'.repeat(255), '?sort=email'])('answers 400 to %s', async (query) => {
      await t.http.get(`/api/v1/admin/users${query}`).set(admin.auth).expect(400);
    });
  });

  describe('PATCH /admin/users/:id', () => {
    it('changes the token limit, writes the audit row, and the new limit applies to the next call', async () => {
      const user = await registerUser(t);
      const res = await patch(admin, user.id, { tokenLimit: 0 }).expect(200);
      expect(res.body).toEqual({
        id: user.id,
        email: user.email,
        name: 'user',
        role: 'user',
        disabled: false,
        tokenLimit: 0,
        totalTokensUsed: 0,
        totalCostUsd: 0,
        lastActiveAt: null,
        createdAt: anyDate,
      });
      const refused = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi' }).expect(403);
      expect(refused.body.message).toBe('Token limit exceeded');
      const audit = await t.http.get('/api/v1/admin/audit?limit=1').set(admin.auth).expect(200);
      expect(audit.body.data).toEqual([
        {
          id: anyId,
          actorId: admin.id,
          actorEmail: admin.email,
          action: 'user.update',
          targetId: user.id,
          targetEmail: user.email,
          before: { tokenLimit: 1_000_000 },
          after: { tokenLimit: 0 },
          createdAt: anyDate,
        },
      ]);
      expect(audit.body.meta).toEqual({ total: expect.any(Number), page: 1, limit: 1, totalPages: audit.body.meta.total });
    });

    it('records only the fields that changed, and nothing when nothing changed', async () => {
      const user = await registerUser(t);
      await patch(admin, user.id, { tokenLimit: 1_000_000, role: 'admin', disabled: false }).expect(200);
      await patch(admin, user.id, { role: 'admin' }).expect(200);
      const rows = await t.prisma.adminAuditLog.findMany({ where: { targetId: user.id } });
      expect(rows.map((row) => [row.before, row.after])).toEqual([[{ role: 'user' }, { role: 'admin' }]]);
    });

    it('refuses an admin disabling or demoting their own account, and changes nothing', async () => {
      const own = await patch(admin, admin.id, { disabled: true }).expect(400);
      expect(own.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Admins cannot disable or demote their own account' });
      await patch(admin, admin.id, { role: 'user' }).expect(400);
      await patch(admin, admin.id, { tokenLimit: 2_000_000 }).expect(200);
      expect(await t.prisma.user.findUniqueOrThrow({ where: { id: admin.id } })).toMatchObject({ role: 'admin', disabled: false, tokenLimit: 2_000_000 });
    });

    it.each([
      [{}, 'Send at least one of tokenLimit, disabled, role'],
      [{ tokenLimit: -1 }, 'tokenLimit must not be less than 0'],
      [{ tokenLimit: 1.5 }, 'tokenLimit must be an integer number'],
      [{ tokenLimit: '100' }, 'tokenLimit must be an integer number'],
      [{ disabled: 'yes' }, 'disabled must be a boolean value'],
      [{ role: 'root' }, 'role must be one of the following values: user, admin'],
      [{ email: 'x@example.com' }, 'property email should not exist'],
    ])('answers 400 to %j and changes nothing', async (body, message) => {
      const user = await registerUser(t);
      const res = await patch(admin, user.id, body).expect(400);
      expect([res.body.message].flat()).toContain(message);
      expect(await t.prisma.adminAuditLog.count({ where: { targetId: user.id } })).toBe(0);
    });

    it('answers 404 for an unknown user and 400 for a malformed id', async () => {
      await patch(admin, '00000000-0000-4000-8000-000000000000', { tokenLimit: 5 }).expect(404);
      await patch(admin, 'not-a-uuid', { tokenLimit: 5 }).expect(400);
    });
  });

  describe('disabling an account', () => {
    it('refuses its access and refresh tokens and its login at once, closes its sockets and stops its stream keeping the partial', async () => {
      const user = await registerUser(t);
      const socket = await connectSocket(t.url, user.accessToken);
      const events = recordEvents(socket);
      const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      fake.enqueue({ chunks: Array.from({ length: 200 }, (_, i) => `w${i} `), chunkDelayMs: 20 });
      socket.emit('chat:start', { message: 'a long answer please' });
      await eventually(() => events.filter((e) => e.event === 'chat:message').length >= 2);

      const res = await patch(admin, user.id, { disabled: true }).expect(200);
      expect(res.body.disabled).toBe(true);

      expect(await closed).toBe('io server disconnect');
      await fake.waitFor((f) => f.abortCount() === 1);
      const message = await eventually(() => t.prisma.message.findFirst({ where: { role: 'ASSISTANT', conversation: { userId: user.id } } }));
      expect(message.status).toBe('stopped');
      expect(message.content.startsWith(streamedText(events))).toBe(true);

      const refused = await t.http.get('/api/v1/auth/me').set(user.auth).expect(401);
      expect(refused.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Unauthorized' });
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi' }).expect(401);
      await expect(connectSocket(t.url, user.accessToken)).rejects.toThrow('Unauthorized');
      const refresh = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      expect(refresh.body.message).toBe('Account disabled');
      const login = await t.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(401);
      expect(login.body.message).toBe('Account disabled');
      // A wrong password still reads as wrong credentials (nothing about the account is told).
      expect((await t.http.post('/api/v1/auth/login').send({ email: user.email, password: 'wrong password!' }).expect(401)).body.message).toBe(
        'Invalid email or password',
      );

      // Enabled again: a new login works; the sessions it had before the disable stay ended.
      await patch(admin, user.id, { disabled: false }).expect(200);
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      expect(await t.prisma.refreshToken.count({ where: { userId: user.id, revokedAt: null } })).toBe(0);
      const again = await t.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(200);
      await t.http
        .get('/api/v1/auth/me')
        .set({ Authorization: `Bearer ${again.body.accessToken}` })
        .expect(200);
      const audit = await t.prisma.adminAuditLog.findMany({ where: { targetId: user.id }, orderBy: { createdAt: 'asc' } });
      expect(audit.map((row) => [row.actorEmail, row.before, row.after])).toEqual([
        [admin.email, { disabled: false }, { disabled: true }],
        [admin.email, { disabled: true }, { disabled: false }],
      ]);
    });

    it('also stops a resumable stream, which a closed socket alone would not, keeping the partial', async () => {
      const user = await registerUser(t);
      const socket = await connectSocket(t.url, user.accessToken);
      const events = recordEvents(socket);
      fake.enqueue({ chunks: Array.from({ length: 200 }, (_, i) => `w${i} `), chunkDelayMs: 20 });
      socket.emit('chat:start', { message: 'a long answer please', resumable: true });
      await eventually(() => events.filter((e) => e.event === 'chat:message').length >= 2);
      const aborts = fake.abortCount();

      await patch(admin, user.id, { disabled: true }).expect(200);

      await fake.waitFor((f) => f.abortCount() === aborts + 1);
      const message = await eventually(() => t.prisma.message.findFirst({ where: { role: 'ASSISTANT', conversation: { userId: user.id } } }));
      expect(message.status).toBe('stopped');
      expect(message.content.length).toBeLessThan(Array.from({ length: 200 }, (_, i) => `w${i} `).join('').length);
      expect(message.content.startsWith(streamedText(events))).toBe(true);
    });

    it('fails its queued jobs with a clear reason and never calls the model for them', async () => {
      const busy = await registerUser(t, 'busy');
      const user = await registerUser(t);
      fake.enqueue({ content: 'slow', delayMs: 800 });
      await t.http.post('/api/v1/ai/jobs/completion').set(busy.auth).send({ message: 'occupy the worker' }).expect(202);
      await fake.waitFor((f) => f.chatRequests().length === 1);
      const queued = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'never runs' }).expect(202);
      const document = await t.http.post('/api/v1/ai/documents').set(user.auth).send({ title: 'never ingested', text: 'Some notes.' }).expect(202);
      await patch(admin, user.id, { disabled: true }).expect(200);
      // The state first, then the job read afresh: a job read before it failed has no failedReason yet.
      const queue = t.app.get<Queue>(AI_QUEUE, { strict: false });
      const failed = await eventually(async () => {
        if ((await (await queue.getJob(queued.body.jobId))?.getState()) !== 'failed') return null;
        const job = await queue.getJob(queued.body.jobId);
        return job?.failedReason ? job : null;
      }, 10_000);
      expect(failed.failedReason).toBe('Account disabled');
      expect(failed.attemptsMade).toBe(1);
      // Its queued document fails with the reason, and nothing was embedded.
      const stored = await eventually(async () => {
        const row = await t.prisma.document.findUniqueOrThrow({ where: { id: document.body.id } });
        return row.status === 'failed' ? row : null;
      }, 10_000);
      expect(stored).toMatchObject({ status: 'failed', failedReason: 'Account disabled', chunkCount: 0 });
      expect(fake.chatRequests()).toHaveLength(1);
      expect(fake.requests.filter((r) => r.path === '/v1/embeddings')).toHaveLength(0);
    });
  });

  describe('GET /admin/usage', () => {
    it('totals every user by day, model and user (top users first)', async () => {
      const from = '2020-01-01';
      const to = '2020-01-03';
      const [a, b] = [await registerUser(t, 'usage-a'), await registerUser(t, 'usage-b')];
      const row = (userId: string, day: string, model: string, totalTokens: number, costUsd: number | null) => ({
        userId,
        day: new Date(`${day}T00:00:00Z`),
        model,
        requests: 1,
        promptTokens: totalTokens - 1,
        completionTokens: 1,
        totalTokens,
        costUsd,
      });
      await t.prisma.usageDaily.createMany({
        data: [
          row(a.id, '2020-01-01', 'gpt-4', 100, 1),
          row(a.id, '2020-01-03', 'claude', 50, null),
          row(b.id, '2020-01-03', 'gpt-4', 500, 2),
          row(b.id, '2020-01-04', 'gpt-4', 9, 9),
        ],
      });
      const get = (query: string) => t.http.get(`/api/v1/admin/usage?from=${from}&to=${to}${query}`).set(admin.auth).expect(200);
      const totals = { requests: 3, promptTokens: 647, completionTokens: 3, totalTokens: 650, costUsd: 3 };
      expect((await get('&groupBy=day')).body).toEqual({
        from,
        to,
        groupBy: 'day',
        totals,
        groups: [
          { date: '2020-01-01', requests: 1, promptTokens: 99, completionTokens: 1, totalTokens: 100, costUsd: 1 },
          { date: '2020-01-03', requests: 2, promptTokens: 548, completionTokens: 2, totalTokens: 550, costUsd: 2 },
        ],
      });
      expect((await get('&groupBy=model')).body.groups).toEqual([
        { model: 'claude', requests: 1, promptTokens: 49, completionTokens: 1, totalTokens: 50, costUsd: null },
        { model: 'gpt-4', requests: 2, promptTokens: 598, completionTokens: 2, totalTokens: 600, costUsd: 3 },
      ]);
      expect((await get('&groupBy=user')).body.groups).toEqual([
        { userId: b.id, email: b.email, requests: 1, promptTokens: 499, completionTokens: 1, totalTokens: 500, costUsd: 2 },
        { userId: a.id, email: a.email, requests: 2, promptTokens: 148, completionTokens: 2, totalTokens: 150, costUsd: 1 },
      ]);
      expect((await get('&groupBy=user&limit=1')).body).toMatchObject({ totals, groups: [{ userId: b.id }] });
      // groupBy defaults to day.
      expect((await get('')).body.groupBy).toBe('day');
    });

    it('includes calls made today through the service', async () => {
      const user = await registerUser(t, 'today');
      fake.enqueue({ usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } });
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi' }).expect(201);
      const res = await t.http.get(`/api/v1/admin/usage?groupBy=user&limit=10000`).set(admin.auth).expect(200);
      expect(res.body).toMatchObject({ to: today() });
      expect(res.body.groups).toContainEqual({
        userId: user.id,
        email: user.email,
        requests: 1,
        promptTokens: 4,
        completionTokens: 3,
        totalTokens: 7,
        costUsd: expect.any(Number),
      });
    });

    it.each(['?groupBy=week', '?from=2020-01-01&to=2021-01-02', '?limit=0', '?limit=10001', '?from=2020-13-01'])('answers 400 to %s', async (query) => {
      await t.http.get(`/api/v1/admin/usage${query}`).set(admin.auth).expect(400);
    });
  });
});

const AI_QUEUE = getQueueToken(AI_JOBS_QUEUE);

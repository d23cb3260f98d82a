import { JwtService } from '@nestjs/jwt';
import { AppProcess, startAppProcess } from '../../support/app-process';
import { eventually } from '../../support/eventually';
import { FakeLlm, startFakeLlm } from '../../support/fake-llm.mjs';
import { registerUser, TestUser } from '../../support/factories';
import type { OpenApiDocument, OpenApiOperation } from '../../support/openapi';
import { drainQueue } from '../../support/queue';
import { startTestApp, TestApp } from '../../support/test-app';
import { TEST_JWT_SECRET, TEST_OPENAI_KEY } from '../../support/test-env';
import { connectSocket, recordEvents, waitForEvent, waitForTerminal } from '../../support/ws-client';

// Authentication on every protected route and on the socket, isolation between users on every
// route and event that takes an id, no way to raise one's own budget, CORS, and no secret in any
// response or log line. Routes come from the OpenAPI document, so a new route is covered at once.

interface Route {
  method: string;
  path: string;
  isPublic: boolean;
  bodyFields: string[];
  hasBody: boolean;
}

async function routesOf(t: TestApp): Promise<Route[]> {
  const doc = (await t.http.get('/api/docs-json').expect(200)).body as OpenApiDocument;
  const schemaOf = (op: OpenApiOperation) => {
    const ref = op.requestBody?.content?.['application/json']?.schema?.$ref;
    return ref ? doc.components.schemas[ref.split('/').at(-1)!] : undefined;
  };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      isPublic: !op.security,
      bodyFields: Object.keys(schemaOf(op)?.properties ?? {}),
      hasBody: op.requestBody !== undefined,
    })),
  );
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('authentication and isolation (e2e)', () => {
  const jwt = new JwtService();
  const unauthorized = { statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' };
  let fake: FakeLlm;
  let t: TestApp;
  let routes: Route[];
  let owner: TestUser;
  let intruder: TestUser;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_RATE_LIMIT: '1000', CORS_ORIGIN: 'https://app.example.com' });
    routes = await routesOf(t);
    owner = await registerUser(t, 'owner');
    intruder = await registerUser(t, 'intruder');
  });
  afterAll(async () => {
    await drainQueue(t);
    await t.close();
    await fake.close();
  });

  // Every way to present a bad access token. `sub` is a real user, so only the token's flaw refuses it.
  const badTokens = (): Array<[string, string]> => {
    const claims = { sub: owner.id, email: owner.email, typ: 'access' };
    const [header, , signature] = owner.accessToken.split('.');
    return [
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
      ['alg none with a signature', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.${signature}`],
      ['a wrong secret', jwt.sign(claims, { secret: 'not-the-secret-but-long-enough' })],
      ['HS512 with the right secret', jwt.sign(claims, { secret: TEST_JWT_SECRET, algorithm: 'HS512' })],
      ['an expired token', jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 }, { secret: TEST_JWT_SECRET })],
      ['a token not valid yet', jwt.sign({ ...claims, nbf: Math.floor(Date.now() / 1000) + 3600 }, { secret: TEST_JWT_SECRET })],
      ['a tampered payload (another user, same signature)', `${header}.${b64({ ...claims, sub: intruder.id })}.${signature}`],
      ['a token without typ', jwt.sign({ sub: owner.id, email: owner.email }, { secret: TEST_JWT_SECRET })],
      ['a token of another type', jwt.sign({ ...claims, typ: 'refresh' }, { secret: TEST_JWT_SECRET })],
      ['a refresh token', owner.refreshToken],
      ['garbage', 'not-a-jwt'],
      ['an empty token', ''],
    ];
  };

  it('covers the protected routes of the OpenAPI document', () => {
    const protectedRoutes = routes.filter((r) => !r.isPublic).map((r) => `${r.method} ${r.path}`);
    expect(protectedRoutes).toEqual(
      expect.arrayContaining(['GET /api/v1/auth/me', 'POST /api/v1/ai/chat', 'GET /api/v1/ai/jobs/{jobId}', 'DELETE /api/v1/ai/conversations/{id}']),
    );
    expect(
      routes
        .filter((r) => r.isPublic)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/api/v1/auth/login', '/api/v1/auth/refresh', '/api/v1/auth/register', '/api/v1/health']);
  });

  it('answers 401 on every protected route to every bad token, and to none', async () => {
    const conversation = await t.prisma.conversation.create({ data: { userId: owner.id, title: 'target' } });
    for (const route of routes.filter((r) => !r.isPublic)) {
      const path = route.path.replace(/\{\w+\}/g, conversation.id);
      for (const [label, token] of [...badTokens(), ['no Authorization header', undefined] as [string, undefined], ['a Basic header', 'Basic b3duZXI6cGFzcw==']]) {
        const header = token === undefined ? {} : { Authorization: token.startsWith('Basic') ? token : `Bearer ${token}` };
        const res = await t.http[route.method.toLowerCase() as 'get'](path).set(header).send({ message: 'hi', text: 'hi', title: 'hi' });
        expect([route.method, route.path, label, res.status, res.body]).toEqual([route.method, route.path, label, 401, unauthorized]);
      }
    }
    expect(fake.requests).toHaveLength(0);
    expect(await t.prisma.conversation.findUnique({ where: { id: conversation.id } })).not.toBeNull();
  });

  // The guard remembers tokens it verified; a remembered one must still die at its `exp`, and a
  // remembered signature must not vouch for another payload.
  it('refuses a token it accepted once its exp has passed, and a payload swapped under its signature', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = jwt.sign({ sub: owner.id, email: owner.email, typ: 'access', exp }, { secret: TEST_JWT_SECRET });
    const me = (bearer: string) => t.http.get('/api/v1/auth/me').set({ Authorization: `Bearer ${bearer}` });
    expect((await me(token)).body).toMatchObject({ id: owner.id, email: owner.email });
    expect((await me(token)).status).toBe(200);
    const [header, , signature] = token.split('.');
    const swapped = `${header}.${b64({ sub: intruder.id, email: intruder.email, typ: 'access', exp })}.${signature}`;
    expect([(await me(swapped)).status, (await me(swapped)).body]).toEqual([401, unauthorized]);
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    expect([(await me(token)).status, (await me(token)).body]).toEqual([401, unauthorized]);
  });

  it('refuses every bad token at the socket handshake', async () => {
    for (const [label, token] of badTokens()) {
      expect([
        label,
        await connectSocket(t.url, token).then(
          (s) => (s.close(), 'connected'),
          (e: Error) => e.message,
        ),
      ]).toEqual([label, 'Unauthorized']);
    }
  });

  it("refuses another user's conversation, job, template and document on every route and event that takes an id: 404, never 403", async () => {
    const chat = await t.http.post('/api/v1/ai/chat').set(owner.auth).send({ message: 'private' }).expect(201);
    const conversationId = chat.body.conversationId;
    const job = await t.http.post('/api/v1/ai/jobs/embeddings').set(owner.auth).send({ text: 'private' }).expect(202);
    await eventually(async () => (await t.http.get(`/api/v1/ai/jobs/${job.body.jobId}`).set(owner.auth).expect(200)).body.state === 'completed', 10_000, 50);
    const prompt = await t.http.post('/api/v1/ai/prompts').set(owner.auth).send({ name: 'private', template: 'Hi {{name}}' }).expect(201);
    const sse = await fetch(`${t.url}/api/v1/ai/chat/stream`, {
      method: 'POST',
      headers: { ...owner.auth, 'Content-Type': 'application/json' },
      body: '{"message":"private stream"}',
    });
    const streamId = /"streamId":"([0-9a-f-]{36})"/.exec(await sse.text())![1];
    const before = await t.prisma.message.findMany({ where: { conversationId }, orderBy: { createdAt: 'asc' } });
    const promptBefore = await t.prisma.promptTemplate.findUniqueOrThrow({ where: { id: prompt.body.id } });
    const document = await t.http.post('/api/v1/ai/documents').set(owner.auth).send({ title: 'private', text: 'Private notes.' }).expect(202);
    await eventually(async () => (await t.http.get(`/api/v1/ai/documents/${document.body.id}`).set(owner.auth).expect(200)).body.status === 'ready', 10_000, 50);
    const documentBefore = await t.prisma.document.findUniqueOrThrow({ where: { id: document.body.id }, include: { chunks: true } });
    fake.reset();

    const notFound = (what: string) => ({ statusCode: 404, message: `${what} not found`, error: 'Not Found' });
    // The owner's object that each kind of path names, and what its 404 calls it.
    const targetOf = (path: string): [string, string] =>
      path.includes('{jobId}')
        ? [job.body.jobId, 'Job']
        : path.includes('{streamId}')
          ? [streamId, 'Stream']
          : path.startsWith('/api/v1/ai/prompts/')
            ? [prompt.body.id, 'Prompt']
            : path.startsWith('/api/v1/ai/documents/')
              ? [document.body.id, 'Document']
              : [conversationId, 'Conversation'];
    for (const route of routes.filter((r) => !r.isPublic)) {
      // Admin routes name accounts, not the caller's objects: a user gets 403 there (the admin suite).
      if (route.path.startsWith('/api/v1/admin/')) {
        const res = await t.http[route.method.toLowerCase() as 'get'](route.path.replace(/\{\w+\}/g, owner.id)).set(intruder.auth);
        expect([route.method, route.path, res.status]).toEqual([route.method, route.path, 403]);
        continue;
      }
      if (route.path.includes('{')) {
        const [id, what] = targetOf(route.path);
        const path = route.path.replace(/\{\w+\}/g, id);
        const res = await t.http[route.method.toLowerCase() as 'get'](path).set(intruder.auth);
        expect([route.method, route.path, res.status, res.body]).toEqual([route.method, route.path, 404, notFound(what)]);
      }
      if (route.bodyFields.includes('conversationId')) {
        const res = await t.http[route.method.toLowerCase() as 'post'](route.path).set(intruder.auth).send({ message: 'let me in', conversationId });
        expect([route.method, route.path, res.status, res.body]).toEqual([route.method, route.path, 404, notFound('Conversation')]);
      }
      if (route.bodyFields.includes('documentIds')) {
        const res = await t.http[route.method.toLowerCase() as 'post'](route.path)
          .set(intruder.auth)
          .send({ query: 'private', documentIds: [document.body.id] });
        expect([route.method, route.path, res.status, res.body]).toEqual([route.method, route.path, 404, notFound('Document')]);
      }
    }
    const socket = await connectSocket(t.url, intruder.accessToken);
    try {
      const events = recordEvents(socket);
      socket.emit('chat:start', { message: 'let me in', conversationId, userId: owner.id });
      expect(await waitForTerminal(events)).toEqual({ event: 'chat:error', data: { message: 'Conversation not found', code: 404 } });
      for (const [event, payload] of [
        ['chat:resume', { streamId, lastSeq: 0 }],
        ['chat:stop', { streamId }],
      ] as const) {
        events.length = 0;
        socket.emit(event, payload);
        expect(await waitForTerminal(events)).toEqual({ event: 'chat:error', data: { message: 'Stream not found', code: 404 } });
      }
    } finally {
      socket.close();
    }
    // The owner's data is intact and nothing of it reached the intruder's lists.
    expect(await t.prisma.message.findMany({ where: { conversationId }, orderBy: { createdAt: 'asc' } })).toEqual(before);
    expect(await t.prisma.promptTemplate.findUniqueOrThrow({ where: { id: prompt.body.id } })).toEqual(promptBefore);
    const list = await t.http.get('/api/v1/ai/conversations').set(intruder.auth).expect(200);
    expect(list.body.data.map((c: { id: string }) => c.id)).not.toContain(conversationId);
    expect((await t.http.get('/api/v1/ai/prompts').set(intruder.auth).expect(200)).body.data).toEqual([]);
    expect(await t.prisma.document.findUniqueOrThrow({ where: { id: document.body.id }, include: { chunks: true } })).toEqual(documentBefore);
    expect((await t.http.get('/api/v1/ai/documents').set(intruder.auth).expect(200)).body.data).toEqual([]);
    expect((await t.http.post('/api/v1/ai/search').set(intruder.auth).send({ query: 'Private notes.' }).expect(200)).body).toEqual({ results: [] });
    expect((await t.http.get('/api/v1/ai/usage').set(intruder.auth).expect(200)).body).toMatchObject({ conversationsCount: 0, messagesCount: 0 });
    expect(fake.requests).toHaveLength(0);
  });

  it('lets no input raise tokenLimit or set totalTokensUsed', async () => {
    const user = await registerUser(t, 'budget');
    const privileged = { tokenLimit: 1e9, totalTokensUsed: -1e9, reservedTokens: -1e9, userId: owner.id, id: owner.id };
    // The admin routes set limits by design; a user is refused there before any body is read.
    const adminRoutes = routes.filter((r) => r.path.startsWith('/api/v1/admin/') && r.method === 'PATCH');
    expect(adminRoutes.map((r) => r.path)).toEqual(['/api/v1/admin/users/{id}']);
    for (const route of adminRoutes) {
      await t.http
        .patch(route.path.replace(/\{\w+\}/g, user.id))
        .set(user.auth)
        .send({ tokenLimit: 1e9 })
        .expect(403);
    }
    expect(await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ tokenLimit: 1_000_000, role: 'user' });
    for (const route of routes.filter((r) => r.method !== 'GET' && r.method !== 'DELETE' && !r.path.startsWith('/api/v1/admin/'))) {
      const path = route.path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
      const valid = {
        message: 'hi',
        text: 'hi',
        title: 'hi',
        name: 'hi',
        template: 'hi',
        query: 'hi',
        email: `budget-${Date.now()}@example.com`,
        password: 'long enough password',
        refreshToken: user.refreshToken,
      };
      const body = Object.fromEntries(route.bodyFields.map((field) => [field, valid[field as keyof typeof valid]]).filter(([, v]) => v !== undefined));
      for (const [key, value] of Object.entries(privileged)) {
        const res = await t.http[route.method.toLowerCase() as 'post'](`${path}?${key}=${value}`)
          .set(route.isPublic ? {} : user.auth)
          .send({ ...body, [key]: value });
        // A route that reads no body (stop a stream) answers for its path alone: the id is unknown.
        const expected = route.hasBody ? 400 : 404;
        expect([route.path, key, res.status]).toEqual([route.path, key, expected]);
      }
    }
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      socket.emit('chat:start', { message: 'hi', tokenLimit: 1e9, totalTokensUsed: 0 });
      expect((await waitForEvent(events, 'chat:error')).data.code).toBe(400);
    } finally {
      socket.close();
    }
    const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
    expect(me.body).toMatchObject({ totalTokensUsed: 0, tokenLimit: 1_000_000 });
    expect(await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ tokenLimit: 1_000_000, totalTokensUsed: 0, reservedTokens: 0 });
  });

  describe('CORS', () => {
    const preflight = (origin: string) =>
      t.http.options('/api/v1/ai/chat').set({ Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' });
    const handshake = (origin: string) => t.http.get('/socket.io/?EIO=4&transport=polling').set('Origin', origin);

    it('allows CORS_ORIGIN on the REST preflight, a REST call and the socket handshake', async () => {
      const res = await preflight('https://app.example.com');
      expect(res.status).toBeLessThan(300);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(res.headers['access-control-allow-headers']).toMatch(/authorization/i);
      const call = await t.http.get('/api/v1/ai/usage').set(owner.auth).set('Origin', 'https://app.example.com').expect(200);
      expect(call.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect((await handshake('https://app.example.com')).headers['access-control-allow-origin']).toBe('https://app.example.com');
    });

    it.each(['https://evil.example.com', 'https://app.example.com.evil.example', 'null', 'http://app.example.com'])(
      'gives the foreign origin %s no Access-Control-Allow-Origin on the preflight, a call or the socket handshake',
      async (origin) => {
        expect((await preflight(origin)).headers['access-control-allow-origin']).toBeUndefined();
        const call = await t.http.get('/api/v1/ai/usage').set(owner.auth).set('Origin', origin);
        expect(call.headers['access-control-allow-origin']).toBeUndefined();
        expect((await handshake(origin)).headers['access-control-allow-origin']).toBeUndefined();
      },
    );
  });
});

describe('secrets in responses and logs (e2e)', () => {
  const JWT_SECRET = 'log-scan-jwt-secret-0123456789abcdef';
  let fake: FakeLlm;
  let app: AppProcess;

  beforeAll(async () => {
    fake = await startFakeLlm();
    // Production logging (JSON) at the most verbose level, as the process writes it.
    app = await startAppProcess({ NODE_ENV: 'production', LOG_LEVEL: 'debug', JWT_SECRET, OPENAI_BASE_URL: fake.baseUrl, AI_JOB_BACKOFF_MS: '10' });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it('never shows the OpenAI key, the JWT secret, a bearer or refresh token, a password or a hash', async () => {
    const bodies: string[] = [];
    const call = async (method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${app.url}/api/v1${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      bodies.push(`${res.status} ${JSON.stringify(Object.fromEntries(res.headers))} ${text}`);
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const password = 'a very secret passphrase 42';
    const email = `secrets-${Date.now()}@example.com`;
    const registered = await call('POST', '/auth/register', undefined, { email, password, name: 'Secret Keeper' });
    const login = await call('POST', '/auth/login', undefined, { email, password });
    await call('POST', '/auth/login', undefined, { email, password: `${password} but wrong` });
    const refreshed = await call('POST', '/auth/refresh', undefined, { refreshToken: login.body.refreshToken });
    await call('POST', '/auth/refresh', undefined, { refreshToken: login.body.refreshToken });
    const token = refreshed.body.accessToken as string;
    await call('GET', '/auth/me', token, undefined, { cookie: 'session=cookie-secret-value' });
    await call('GET', '/auth/me', `${token}x`);
    const chat = await call('POST', '/ai/chat', token, { message: 'hello' });
    await call('GET', `/ai/conversations/${chat.body.conversationId}`, token);
    await call('POST', '/ai/embeddings', token, { text: 'hello' });
    // An upstream that echoes part of the key, as OpenAI's "Incorrect API key provided" does.
    fake.enqueue({ status: 401, error: { message: `Incorrect API key provided: ${TEST_OPENAI_KEY}` } });
    await call('POST', '/ai/chat', token, { message: 'rejected key' });
    fake.enqueue({ status: 400, error: { message: `bad request for key ${TEST_OPENAI_KEY}` } });
    await call('POST', '/ai/chat', token, { message: 'bad request' });
    const job = await call('POST', '/ai/jobs/completion', token, { message: 'in the background' });
    await eventually(async () => (await call('GET', `/ai/jobs/${job.body.jobId}`, token)).body.state === 'completed', 10_000, 100);
    const socket = await connectSocket(app.url, token);
    try {
      const events = recordEvents(socket);
      socket.emit('chat:start', { message: 'stream it' });
      expect((await waitForTerminal(events)).event).toBe('chat:end');
    } finally {
      socket.close();
    }
    await connectSocket(app.url, registered.body.refreshToken).catch(() => undefined);

    const db = (await import('../../support/db.js')).openTestDb();
    const { passwordHash } = await db.user.findUniqueOrThrow({ where: { email } });
    await db.$disconnect();
    const secrets = {
      'OpenAI key': TEST_OPENAI_KEY,
      'JWT secret': JWT_SECRET,
      password,
      'password hash': passwordHash,
      'access token (register)': registered.body.accessToken,
      'access token (refresh)': token,
      'refresh token (login)': login.body.refreshToken,
      'refresh token (refresh)': refreshed.body.refreshToken,
      cookie: 'cookie-secret-value',
    };
    const logs = app.output.join('\n');
    expect(app.output.filter((l) => l.startsWith('{')).length).toBeGreaterThan(20);
    expect(logs).toMatch(/"level":20/); // debug lines are there, so they were scanned too
    for (const [name, secret] of Object.entries(secrets)) {
      expect([name, logs.includes(secret)]).toEqual([name, false]);
    }
    expect(logs).not.toMatch(/\$2[aby]\$\d\d\$/);
    expect(logs).not.toMatch(/Bearer [\w-]+\.[\w-]+/);
    // Responses: the user's own tokens come back from auth routes by design; nothing else does.
    const responses = bodies.join('\n');
    for (const name of ['OpenAI key', 'JWT secret', 'password', 'password hash', 'cookie'] as const) {
      expect([name, responses.includes(secrets[name])]).toEqual([name, false]);
    }
    expect(responses).not.toMatch(/\$2[aby]\$\d\d\$|passwordHash|sk-test/);
  });
});

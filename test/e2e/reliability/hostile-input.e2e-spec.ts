import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { FakeLlm, startFakeLlm } from '../../support/fake-llm.mjs';
import { registerUser, TestUser } from '../../support/factories';
import { FieldType, hostileKey, hostileString, hostileValue, ownObject, percentEncode, POLLUTING_KEYS, PRIVILEGED_KEYS, wrongTypeFor } from '../../support/hostile';
import type { JsonSchema, OpenApiDocument } from '../../support/openapi';
import { drainQueue, queueOf } from '../../support/queue';
import { startTestApp, TestApp } from '../../support/test-app';
import { connectSocket, recordEvents, waitForEvent } from '../../support/ws-client';

// Property-based pass over every body, query and path parameter of the API (enumerated from the
// OpenAPI document, so a new route is fuzzed without touching this file) and over the socket
// events. Every hostile input must get a 4xx (or chat:error) in the error shape, never a 5xx, and
// change no row. Reproduce a failure with FUZZ_SEED=<the seed printed below>.
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const MAX_MESSAGE_LENGTH = 2_000;
const MAX_TOKENS = 1_000;

interface Operation {
  method: string;
  path: string;
  isPublic: boolean;
  pathParams: string[];
  queryParams: Array<{ name: string; schema: JsonSchema }>;
  body?: JsonSchema;
}

// Limits that come from configuration, which the OpenAPI document only describes in prose.
const CONFIGURED: Record<string, Partial<JsonSchema>> = {
  message: { minLength: 1, maxLength: MAX_MESSAGE_LENGTH },
  text: { minLength: 1, maxLength: MAX_MESSAGE_LENGTH },
  template: { minLength: 1, maxLength: MAX_MESSAGE_LENGTH },
  query: { minLength: 1, maxLength: MAX_MESSAGE_LENGTH },
  maxTokens: { minimum: 1, maximum: MAX_TOKENS },
};

function operationsOf(doc: OpenApiDocument): Operation[] {
  const resolve = (schema: JsonSchema | undefined): JsonSchema | undefined => (schema?.$ref ? doc.components.schemas[schema.$ref.split('/').at(-1)!] : schema);
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      isPublic: !op.security,
      pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
      body: resolve(op.requestBody?.content?.['application/json']?.schema),
    })),
  );
}

// Every field is a string or a number (the OpenAPI document types `string | null` as object).
function fieldType(schema: JsonSchema): FieldType {
  if (schema.type === 'number' || schema.type === 'integer') return 'number';
  if (schema.type === 'array') return 'array';
  if (schema.type === 'string') return 'string';
  return 'boolean-or-object';
}

// A body that passes validation, as the base that one mutation then breaks.
function validBody(schema: JsonSchema): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const property = schema.properties![name];
    body[name] = name === 'email' ? `fuzz-${randomUUID().slice(0, 8)}@example.com` : (property.example ?? 'a valid value');
  }
  return body;
}

// Bodies that are invalid by construction, each in one way: an unknown key, a field of the wrong
// type or out of range, a required field missing, not an object at all, or pure garbage.
function hostileBody(schema: JsonSchema, allowedExtraKeys: string[] = []): fc.Arbitrary<unknown> {
  const properties = Object.entries(schema.properties ?? {});
  const known = new Set([...properties.map(([name]) => name), ...allowedExtraKeys]);
  const base = validBody(schema);
  const unknownKey = hostileKey.filter((key) => !known.has(key));
  const variants: Array<fc.Arbitrary<unknown>> = [
    fc.tuple(unknownKey, hostileValue).map(([key, value]) => ownObject([...Object.entries(base), [key, value]])),
    fc.array(fc.tuple(unknownKey, hostileValue), { minLength: 1, maxLength: 5 }).map(ownObject),
    hostileValue.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
  ];
  if (properties.length) {
    variants.push(fc.constantFrom(...properties).chain(([name, property]) => wrongTypeFor(fieldType(property)).map((value) => ({ ...base, [name]: value }))));
  }
  const outOfRange = properties.flatMap(([name, property]) => {
    const limits = { ...property, ...CONFIGURED[name] };
    const options: Array<fc.Arbitrary<unknown>> = [];
    if (limits.maxLength !== undefined) options.push(fc.constantFrom('x', 'é', '🤖').map((c) => c.repeat(limits.maxLength! + 1)));
    if (limits.minLength !== undefined && limits.minLength > 0) options.push(fc.constant('x'.repeat(limits.minLength - 1)));
    // (Filtered: fast-check counts -0 as below 0, validators do not.)
    if (limits.minimum !== undefined) options.push(fc.double({ max: limits.minimum, noNaN: true, noDefaultInfinity: true }).filter((v) => v < limits.minimum!));
    if (limits.maximum !== undefined) options.push(fc.double({ min: limits.maximum, noNaN: true, noDefaultInfinity: true }).filter((v) => v > limits.maximum!));
    if (property.format === 'uuid') options.push(hostileString);
    if (name === 'email') options.push(hostileString.filter((s) => !/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(s.trim())));
    return options.map((arbitrary) => arbitrary.map((value) => ({ ...base, [name]: value })));
  });
  variants.push(...outOfRange);
  for (const name of schema.required ?? []) {
    variants.push(fc.constant(Object.fromEntries(Object.entries(base).filter(([key]) => key !== name))));
  }
  return fc.oneof(...variants);
}

// Bodies of the right shape whose text fields carry hostile text (NUL, unpaired surrogates, RTL
// marks, huge or empty strings...). They may be accepted or refused, never fail.
function hostileText(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const base = validBody(schema);
  const textFields = Object.entries(schema.properties ?? {}).filter(([name, p]) => fieldType(p) === 'string' && p.format !== 'uuid' && name !== 'conversationId');
  return fc.record(Object.fromEntries(textFields.map(([name]) => [name, hostileString])), { requiredKeys: [] }).map((fields) => ({ ...base, ...fields }));
}

describe('hostile input (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let user: TestUser;
  let operations: Operation[];
  const options = () => ({ numRuns: RUNS, seed: SEED, endOnFailure: true });

  beforeAll(async () => {
    // eslint-disable-next-line no-console
    console.log(`hostile-input: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
    fake = await startFakeLlm();
    t = await startTestApp({
      OPENAI_BASE_URL: fake.baseUrl,
      AI_RATE_LIMIT: '1000000',
      AUTH_RATE_LIMIT: '1000000',
      AI_MAX_MESSAGE_LENGTH: String(MAX_MESSAGE_LENGTH),
      OPENAI_MAX_TOKENS: String(MAX_TOKENS),
    });
    user = await registerUser(t, 'fuzz');
    // An admin, so that the admin routes validate their input rather than answer 403 before it.
    await t.prisma.user.update({ where: { id: user.id }, data: { role: 'admin' } });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'something to protect' }).expect(201);
    operations = operationsOf((await t.http.get('/api/docs-json').expect(200)).body);
    fake.reset();
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  // Every row count, the fuzzing user's own row and the queue: what "changed nothing" means.
  async function snapshot() {
    const [users, refreshTokens, conversations, messages, embeddings, prompts, me, jobs] = await Promise.all([
      t.prisma.user.count(),
      t.prisma.refreshToken.count(),
      t.prisma.conversation.count(),
      t.prisma.message.count(),
      t.prisma.usageRecord.count(),
      t.prisma.promptTemplate.count(),
      t.prisma.user.findUniqueOrThrow({ where: { id: user.id } }),
      queueOf(t).count(),
    ]);
    const { updatedAt: _ignored, ...row } = me;
    return { users, refreshTokens, conversations, messages, embeddings, prompts, jobs, row };
  }

  async function send(method: string, path: string, body?: unknown, isPublic = false) {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(isPublic ? {} : user.auth) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: text.startsWith('{') ? JSON.parse(text) : text };
  }

  function expectClientError(res: { status: number; body: unknown; text: string }, allowed?: number[]) {
    expect({ status: res.status, isClientError: res.status >= 400 && res.status < 500 }).toEqual({ status: res.status, isClientError: true });
    // Node's HTTP parser refuses a request line or headers over 16 kB before the app sees them.
    if (res.status === 431) return;
    if (allowed) expect(allowed).toContain(res.status);
    expect(res.body).toEqual({ statusCode: res.status, message: expect.anything(), error: expect.any(String) });
    expect(res.text).not.toMatch(/at .*\.[jt]s:\d+|prisma|SELECT |INSERT |node_modules/i);
  }

  it('covers every route of the OpenAPI document', () => {
    expect(operations.map((o) => `${o.method} ${o.path}`).sort()).toEqual(
      expect.arrayContaining(['POST /api/v1/ai/chat', 'POST /api/v1/auth/register', 'GET /api/v1/ai/conversations', 'DELETE /api/v1/ai/conversations/{id}']),
    );
    expect(operations.filter((o) => o.body)).toHaveLength(16);
  });

  it('answers every hostile body with a 4xx and changes nothing', async () => {
    const upstreamCalls = fake.requests.length;
    for (const op of operations.filter((o) => o.body)) {
      const path = op.path.replace(/\{\w+\}/g, randomUUID());
      await fc.assert(
        fc.asyncProperty(hostileBody(op.body!), async (body) => {
          const before = await snapshot();
          const res = await send(op.method, path, body, op.isPublic);
          expectClientError(res);
          expect(await snapshot()).toEqual(before);
        }),
        options(),
      );
    }
    expect(fake.requests).toHaveLength(upstreamCalls);
  });

  it('accepts or refuses well-shaped bodies carrying hostile text, never fails, and a refusal changes nothing', async () => {
    for (const op of operations.filter((o) => o.body && o.method === 'POST')) {
      const path = op.path.replace(/\{\w+\}/g, randomUUID());
      await fc.assert(
        fc.asyncProperty(hostileText(op.body!), async (body) => {
          const before = await snapshot();
          const res = await send(op.method, path, body, op.isPublic);
          expect({ path, status: res.status, isServerError: res.status >= 500 }).toEqual({ path, status: res.status, isServerError: false });
          if (res.status >= 400) {
            expectClientError(res);
            expect(await snapshot()).toEqual(before);
          }
          // Accepted jobs finish before the next sample, so that they cannot change its snapshot.
          if (res.status === 202) await drainQueue(t);
        }),
        options(),
      );
    }
  });

  it('answers every hostile query with 200 or 400, never anything else', async () => {
    for (const op of operations.filter((o) => o.queryParams.length)) {
      const names = [...op.queryParams.map((p) => p.name), ...POLLUTING_KEYS, 'page[]', 'limit[a]', 'page[__proto__]'];
      const entry = fc.tuple(fc.oneof(fc.constantFrom(...names), hostileKey), fc.oneof(hostileString, fc.integer().map(String), fc.double().map(String)));
      const before = await snapshot();
      await fc.assert(
        fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 4 }), async (entries) => {
          const query = entries.map(([k, v]) => `${percentEncode(k).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${percentEncode(v)}`).join('&');
          const res = await send(op.method, `${op.path}?${query}`);
          if (res.status !== 200) expectClientError(res, [400]);
        }),
        options(),
      );
      expect(await snapshot()).toEqual(before);
    }
  });

  it('answers every hostile path parameter with 400 or 404 and changes nothing', async () => {
    const rawSegments = fc.oneof(
      hostileString.filter((s) => s.length > 0).map(percentEncode),
      // ('.', '..' and '%2e' are not here: the client normalises them away before sending.)
      fc.constantFrom('%', '%E0%A4%A', '%00', '%2e%2e%2f', '__proto__', 'constructor', '%5B%5D', 'null', '-1', '1e3', '0'),
      fc.uuid().map((id) => id.toUpperCase()),
    );
    for (const op of operations.filter((o) => o.pathParams.length)) {
      await fc.assert(
        fc.asyncProperty(rawSegments, async (segment) => {
          const before = await snapshot();
          const res = await send(op.method, op.path.replace(/\{\w+\}/g, segment));
          expectClientError(res, [400, 404]);
          expect(await snapshot()).toEqual(before);
        }),
        options(),
      );
    }
  });

  it('answers every hostile chat:start with chat:error 400, ignores hostile chat:stop and unknown events, and stores nothing', async () => {
    const upstreamCalls = fake.requests.length;
    const socket = await connectSocket(t.url, user.accessToken);
    const events = recordEvents(socket);
    const streamSchema = operations.find((o) => o.path === '/api/v1/ai/chat')!.body!;
    try {
      await fc.assert(
        fc.asyncProperty(hostileBody(streamSchema, ['userId']), hostileValue, async (payload, noise) => {
          const before = await snapshot();
          events.length = 0;
          socket.emit('chat:stop', noise);
          socket.emit('chat:unknown-event', noise);
          socket.emit('chat:start', payload);
          const error = await waitForEvent(events, 'chat:error');
          expect(error.data).toEqual({ message: expect.any(String), code: 400 });
          expect(events).toHaveLength(1);
          expect(socket.connected).toBe(true);
          expect(await snapshot()).toEqual(before);
        }),
        options(),
      );
      // No payload at all, several arguments, binary attachments.
      for (const args of [[], [Buffer.from('binary')], [{ message: 'hi' }, 'extra', 42], [[{ message: 'hi' }]]]) {
        events.length = 0;
        socket.emit('chat:start', ...args);
        expect((await waitForEvent(events, 'chat:error')).data.code).toBe(400);
      }
    } finally {
      socket.close();
    }
    expect(fake.requests).toHaveLength(upstreamCalls);
  });

  it('refuses JSON nested 100 000 levels deep with 400, on REST and on the socket', async () => {
    const before = await snapshot();
    const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    for (const body of [`{"message":"hi","x":${deep(100_000)}}`, `{"message":${deep(100_000)}}`, `[${deep(50_000)}]`]) {
      const res = await fetch(`${t.url}/api/v1/ai/chat`, { method: 'POST', headers: { 'content-type': 'application/json', ...user.auth }, body });
      expect([res.status, await res.json()]).toEqual([
        400,
        { statusCode: 400, message: expect.arrayContaining([expect.stringMatching(/nested more than 32 levels/)]), error: 'Bad Request' },
      ]);
    }
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      // Written as a raw Socket.IO packet: the client's own encoder would overflow its stack first.
      (socket.io.engine as unknown as { write(packet: string): void }).write(`2/ai,["chat:start",{"message":"hi","x":${deep(20_000)}}]`);
      expect((await waitForEvent(events, 'chat:error')).data).toEqual({ message: 'input is nested more than 32 levels deep', code: 400 });
    } finally {
      socket.close();
    }
    expect(await snapshot()).toEqual(before);
  });

  it('ends with a clean Object.prototype, its privileged fields untouched and the process serving', async () => {
    expect(Object.getOwnPropertyNames(Object.prototype).filter((k) => [...PRIVILEGED_KEYS, 'polluted'].includes(k))).toEqual([]);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    const me = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(me).toMatchObject({ tokenLimit: 1_000_000, reservedTokens: 0 });
    await t.http.get('/api/v1/health').expect(200);
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'still here' }).expect(201);
  });
});

describe('size limits (e2e)', () => {
  const LIMIT = 16 * 1024;
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT: '16kb', WS_MAX_HTTP_BUFFER_SIZE: String(LIMIT), AI_MAX_MESSAGE_LENGTH: '100000', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    user = await registerUser(t, 'limits');
  });
  afterAll(() => t.close());

  const rows = () => Promise.all([t.prisma.user.count(), t.prisma.conversation.count(), t.prisma.message.count()]);

  it.each([
    ['POST /api/v1/auth/register', '/api/v1/auth/register', false],
    ['POST /api/v1/ai/chat', '/api/v1/ai/chat', true],
    ['POST /api/v1/ai/conversations', '/api/v1/ai/conversations', true],
  ])('answers a body over BODY_LIMIT on %s with 413 in the error shape and stores nothing', async (_label, path, isProtected) => {
    const before = await rows();
    const res = await fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(isProtected ? user.auth : {}) },
      body: JSON.stringify({ message: 'x'.repeat(LIMIT), email: 'big@example.com', password: 'x'.repeat(LIMIT), title: 'x'.repeat(LIMIT) }),
    });
    expect([res.status, await res.json()]).toEqual([413, { statusCode: 413, message: 'request entity too large', error: 'Payload Too Large' }]);
    expect(await rows()).toEqual(before);
  });

  it('drops a socket message over WS_MAX_HTTP_BUFFER_SIZE: the client is disconnected, nothing is stored, the server goes on', async () => {
    const before = await rows();
    const socket = await connectSocket(t.url, user.accessToken);
    const events = recordEvents(socket);
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    socket.emit('chat:start', { message: 'x'.repeat(LIMIT + 1) });
    expect(await disconnected).toBe('transport close');
    expect(events).toEqual([]);
    expect(await rows()).toEqual(before);
    // The server is fine: a new connection works and a normal message is handled.
    const again = await connectSocket(t.url, user.accessToken);
    try {
      const againEvents = recordEvents(again);
      again.emit('chat:start', { message: '' });
      expect((await waitForEvent(againEvents, 'chat:error')).data.code).toBe(400);
    } finally {
      again.close();
    }
    await t.http.get('/api/v1/health').expect(200);
  });
});

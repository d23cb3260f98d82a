import { JwtService } from '@nestjs/jwt';
import { registerUser, uniqueEmail } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { TEST_JWT_SECRET } from '../support/test-env';

const anyDate = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
const noHash = (body: unknown) => expect(JSON.stringify(body)).not.toMatch(/passwordHash|\$2[aby]\$/);

describe('auth (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('POST /api/v1/auth/register', () => {
    it('creates the user and returns tokens and the public profile', async () => {
      const email = uniqueEmail();
      const res = await t.http.post('/api/v1/auth/register').send({ email, password: 'password-123', name: 'Ada' }).expect(201);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        user: { id: expect.any(String), email, name: 'Ada', createdAt: anyDate },
      });
      noHash(res.body);
      const row = await t.prisma.user.findUniqueOrThrow({ where: { email } });
      expect(row.passwordHash).toMatch(/^\$2b\$/);
      expect(row.passwordHash).not.toContain('password-123');
      expect(row.tokenLimit).toBe(1_000_000);
      expect(row.totalTokensUsed).toBe(0);
    });

    it('stores e-mails case-insensitively and refuses a duplicate with 409', async () => {
      const email = uniqueEmail();
      await t.http.post('/api/v1/auth/register').send({ email, password: 'password-123' }).expect(201);
      const res = await t.http.post('/api/v1/auth/register').send({ email: email.toUpperCase(), password: 'password-456' }).expect(409);
      expect(res.body).toEqual({ statusCode: 409, message: 'Email already registered', error: 'Conflict' });
      expect(await t.prisma.user.count({ where: { email } })).toBe(1);
    });

    it.each([
      ['a short password', { password: 'short' }],
      ['a too long password', { password: 'x'.repeat(129) }],
      ['a bad email', { email: 'not-an-email' }],
      ['a missing password', { password: undefined }],
      ['a non-string name', { name: 42 }],
      ['an unknown property', { isAdmin: true }],
      ['a tokenLimit of its own', { tokenLimit: 10 ** 9 }],
    ])('answers 400 to %s and stores nothing', async (_label, patch) => {
      const email = uniqueEmail();
      const res = await t.http
        .post('/api/v1/auth/register')
        .send({ email, password: 'password-123', ...patch })
        .expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: expect.any(Array), error: 'Bad Request' });
      expect(await t.prisma.user.count({ where: { email } })).toBe(0);
    });

    it('answers 400 to malformed JSON', async () => {
      const res = await t.http.post('/api/v1/auth/register').set('content-type', 'application/json').send('{"email":').expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });
  });

  describe('POST /api/v1/auth/login', () => {
    it('returns 200 with a working token pair', async () => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        user: { id: user.id, email: user.email, name: 'user', createdAt: anyDate },
      });
      noHash(res.body);
      await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.accessToken}`).expect(200);
    });

    it.each([
      ['a wrong password', (email: string) => ({ email, password: 'wrong-password' })],
      ['an unknown email', () => ({ email: uniqueEmail(), password: 'whatever-123' })],
    ])('answers 401 to %s', async (_label, body) => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/auth/login').send(body(user.email)).expect(401);
      expect(res.body).toEqual({ statusCode: 401, message: 'Invalid email or password', error: 'Unauthorized' });
    });
  });

  describe('POST /api/v1/auth/refresh', () => {
    it('rotates: the new pair works and the old refresh token is refused', async () => {
      const user = await registerUser(t);
      const first = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      expect(first.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        user: expect.objectContaining({ id: user.id }),
      });
      expect(first.body.refreshToken).not.toBe(user.refreshToken);
      await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${first.body.accessToken}`).expect(200);
      const reused = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      expect(reused.body).toEqual({ statusCode: 401, message: 'Invalid refresh token', error: 'Unauthorized' });
    });

    it('revokes the whole family when a used token is presented again', async () => {
      const user = await registerUser(t);
      const rotated = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      // The legitimate newest token dies with its family: the thief and the owner both have to log in again.
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: rotated.body.refreshToken }).expect(401);
      const live = await t.prisma.refreshToken.count({ where: { userId: user.id, revokedAt: null, usedAt: null } });
      expect(live).toBe(0);
    });

    it('lets exactly one of two concurrent refreshes with the same token through', async () => {
      const user = await registerUser(t);
      const results = await Promise.all([1, 2].map(() => t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken })));
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('answers 401 to an unknown token and 400 to a missing one', async () => {
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: 'nope' }).expect(401);
      await t.http.post('/api/v1/auth/refresh').send({}).expect(400);
    });
  });

  describe('GET /api/v1/auth/me', () => {
    it('returns the profile with usage and no hash', async () => {
      const user = await registerUser(t);
      const res = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      expect(res.body).toEqual({
        id: user.id,
        email: user.email,
        name: 'user',
        totalTokensUsed: 0,
        tokenLimit: 1_000_000,
        role: 'user',
        createdAt: anyDate,
      });
      noHash(res.body);
    });
  });

  describe('protected routes', () => {
    const jwt = new JwtService();
    const unauthorized = { statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' };

    it.each([
      ['no token', () => ({})],
      ['a malformed token', () => ({ Authorization: 'Bearer not.a.jwt' })],
      [
        'a token signed with another secret',
        () => ({ Authorization: `Bearer ${jwt.sign({ sub: 'x', email: 'e', typ: 'access' }, { secret: 'another-secret-0123456789' })}` }),
      ],
      [
        'an expired token',
        () => ({ Authorization: `Bearer ${jwt.sign({ sub: 'x', email: 'e', typ: 'access', exp: Math.floor(Date.now() / 1000) - 60 }, { secret: TEST_JWT_SECRET })}` }),
      ],
      [
        'an unsigned (alg none) token',
        () => ({
          Authorization: `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', typ: 'access' })).toString('base64url')}.`,
        }),
      ],
    ])('answer 401 with the error shape for %s', async (_label, headers) => {
      const res = await t.http.get('/api/v1/auth/me').set(headers()).expect(401);
      expect(res.body).toEqual(unauthorized);
    });

    it('refuses a refresh token used as an access token', async () => {
      const user = await registerUser(t);
      await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${user.refreshToken}`).expect(401);
    });
  });

  describe('GET /api/v1/health', () => {
    it('is public and reports PostgreSQL and Redis up', async () => {
      const res = await t.http.get('/api/v1/health').expect(200);
      expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } });
    });
  });

  describe('unknown routes', () => {
    it('answer 404 in the error shape', async () => {
      const user = await registerUser(t);
      const res = await t.http.get('/api/v1/nope').set(user.auth).expect(404);
      expect(res.body).toEqual({ statusCode: 404, message: expect.any(String), error: 'Not Found' });
    });
  });
});

describe('auth rate limit (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ AUTH_RATE_LIMIT: '3', AUTH_RATE_TTL_MS: '60000' });
  });
  afterAll(() => t.close());

  it('throttles login attempts per IP with 429 and Retry-After', async () => {
    const body = { email: uniqueEmail(), password: 'wrong-password' };
    for (let i = 0; i < 3; i++) await t.http.post('/api/v1/auth/login').send(body).expect(401);
    const res = await t.http.post('/api/v1/auth/login').send(body).expect(429);
    expect(res.body).toEqual({ statusCode: 429, message: 'Too many requests', error: 'Too Many Requests' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

import { PromptsService } from '../../src/ai/prompts/prompts.service';
import { registerUser, TestUser } from '../support/factories';
import type { Json } from '../support/json';
import { startTestApp, TestApp } from '../support/test-app';

const anyDate = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
const anyId = expect.stringMatching(/^[0-9a-f-]{36}$/);
const MAX_MESSAGE_LENGTH = 200;
const PROMPTS = '/api/v1/ai/prompts';

describe('prompt templates (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ AI_MAX_MESSAGE_LENGTH: String(MAX_MESSAGE_LENGTH) });
  });
  afterAll(() => t.close());

  const create = async (user: TestUser, body: object): Promise<Json> => (await t.http.post(PROMPTS).set(user.auth).send(body).expect(201)).body;
  const rowsOf = (user: TestUser) => t.prisma.promptTemplate.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } });

  describe(`POST ${PROMPTS}`, () => {
    it('creates a template with its variables in order of first appearance', async () => {
      const user = await registerUser(t);
      const body = { name: 'Translator', description: 'Any language', template: 'Translate {{ text }} into {{language}}. Only {{language}}, no {{text}} notes.' };
      const res = await t.http.post(PROMPTS).set(user.auth).send(body).expect(201);
      expect(res.body).toEqual({ id: anyId, ...body, variables: ['text', 'language'], createdAt: anyDate, updatedAt: anyDate });
      const [row] = await rowsOf(user);
      expect(row).toMatchObject({ id: res.body.id, userId: user.id, ...body, variables: ['text', 'language'] });
    });

    it('stores no description as null, and a template without placeholders with no variables', async () => {
      const user = await registerUser(t);
      expect(await create(user, { name: 'Plain', template: 'Say hello.' })).toMatchObject({ description: null, variables: [] });
      expect(await create(user, { name: 'Null', description: null, template: '{not one} {{ }}' })).toMatchObject({ description: null, variables: [] });
    });

    it(`accepts a name of 100 characters and a template of AI_MAX_MESSAGE_LENGTH (${MAX_MESSAGE_LENGTH})`, async () => {
      const user = await registerUser(t);
      await create(user, { name: 'n'.repeat(100), description: 'd'.repeat(1000), template: 't'.repeat(MAX_MESSAGE_LENGTH) });
    });

    it.each([
      ['no name', { template: 'x' }, 'name must not be blank'],
      ['an empty name', { name: '', template: 'x' }, 'name must be longer than or equal to 1 characters'],
      ['a blank name', { name: '  \n', template: 'x' }, 'name must not be blank'],
      ['a name of 101 characters', { name: 'n'.repeat(101), template: 'x' }, 'name must be shorter than or equal to 100 characters'],
      ['a name that is not a string', { name: 7, template: 'x' }, 'name must be a string'],
      ['no template', { name: 'x' }, 'template must not be blank'],
      ['an empty template', { name: 'x', template: '' }, 'template must be longer than or equal to 1 characters'],
      ['a blank template', { name: 'x', template: ' \t ' }, 'template must not be blank'],
      [
        'a template over AI_MAX_MESSAGE_LENGTH',
        { name: 'x', template: 't'.repeat(MAX_MESSAGE_LENGTH + 1) },
        `template must be shorter than or equal to ${MAX_MESSAGE_LENGTH} characters`,
      ],
      ['a description that is not a string', { name: 'x', template: 'x', description: 5 }, 'description must be a string'],
      ['a description of 1001 characters', { name: 'x', template: 'x', description: 'd'.repeat(1001) }, 'description must be shorter than or equal to 1000 characters'],
      ['variables in the body', { name: 'x', template: '{{a}}', variables: ['b'] }, 'property variables should not exist'],
      ['a userId in the body', { name: 'x', template: 'x', userId: '00000000-0000-4000-8000-000000000000' }, 'property userId should not exist'],
    ])('answers 400 to %s and stores nothing', async (_label, body, message) => {
      const user = await registerUser(t);
      const res = await t.http.post(PROMPTS).set(user.auth).send(body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: expect.arrayContaining([message]), error: 'Bad Request' });
      expect(await rowsOf(user)).toEqual([]);
    });
  });

  describe(`GET ${PROMPTS}`, () => {
    it("pages the caller's templates newest first with meta", async () => {
      const user = await registerUser(t);
      const other = await registerUser(t);
      await create(other, { name: 'not mine', template: 'x' });
      for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) await create(user, { name, template: `{{${name}}}` });

      const page1 = await t.http.get(`${PROMPTS}?page=1&limit=2`).set(user.auth).expect(200);
      expect(page1.body.meta).toEqual({ total: 5, page: 1, limit: 2, totalPages: 3 });
      expect(page1.body.data).toEqual([
        { id: anyId, name: 'p5', description: null, template: '{{p5}}', variables: ['p5'], createdAt: anyDate, updatedAt: anyDate },
        { id: anyId, name: 'p4', description: null, template: '{{p4}}', variables: ['p4'], createdAt: anyDate, updatedAt: anyDate },
      ]);
      const page3 = await t.http.get(`${PROMPTS}?page=3&limit=2`).set(user.auth).expect(200);
      expect(page3.body.data.map((p: Json) => p.name)).toEqual(['p1']);
      const past = await t.http.get(`${PROMPTS}?page=4&limit=2`).set(user.auth).expect(200);
      expect(past.body).toEqual({ data: [], meta: { total: 5, page: 4, limit: 2, totalPages: 3 } });
      const defaults = await t.http.get(PROMPTS).set(user.auth).expect(200);
      expect(defaults.body.meta).toEqual({ total: 5, page: 1, limit: 20, totalPages: 1 });
      expect(defaults.body.data.map((p: Json) => p.name)).toEqual(['p5', 'p4', 'p3', 'p2', 'p1']);
    });

    it('answers an empty page to a user without templates', async () => {
      const user = await registerUser(t);
      const res = await t.http.get(PROMPTS).set(user.auth).expect(200);
      expect(res.body).toEqual({ data: [], meta: { total: 0, page: 1, limit: 20, totalPages: 0 } });
    });

    it.each(['page=0', 'limit=0', 'limit=101', 'page=abc', 'limit=2.5', 'sort=asc'])('answers 400 to ?%s', async (query) => {
      const user = await registerUser(t);
      const res = await t.http.get(`${PROMPTS}?${query}`).set(user.auth).expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: expect.any(Array), error: 'Bad Request' });
    });
  });

  describe(`GET ${PROMPTS}/:id`, () => {
    it('returns the template', async () => {
      const user = await registerUser(t);
      const created = await create(user, { name: 'Greeter', description: 'Says hi', template: 'Hi {{name}}' });
      const res = await t.http.get(`${PROMPTS}/${created.id}`).set(user.auth).expect(200);
      expect(res.body).toEqual(created);
    });

    it('answers 404 to an unknown id and 400 to a malformed one', async () => {
      const user = await registerUser(t);
      const missing = await t.http.get(`${PROMPTS}/00000000-0000-4000-8000-000000000000`).set(user.auth).expect(404);
      expect(missing.body).toEqual({ statusCode: 404, message: 'Prompt not found', error: 'Not Found' });
      const bad = await t.http.get(`${PROMPTS}/123`).set(user.auth).expect(400);
      expect(bad.body).toEqual({ statusCode: 400, message: 'Validation failed (uuid is expected)', error: 'Bad Request' });
    });
  });

  describe(`PATCH ${PROMPTS}/:id`, () => {
    it('changes the name only, and keeps the rest', async () => {
      const user = await registerUser(t);
      const created = await create(user, { name: 'Old', description: 'Kept', template: 'Hi {{name}}' });
      const res = await t.http.patch(`${PROMPTS}/${created.id}`).set(user.auth).send({ name: 'New' }).expect(200);
      expect(res.body).toEqual({ ...created, name: 'New', updatedAt: anyDate });
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
      expect(await rowsOf(user)).toEqual([expect.objectContaining({ name: 'New', description: 'Kept', template: 'Hi {{name}}', variables: ['name'] })]);
    });

    it('recomputes the variables of a new template', async () => {
      const user = await registerUser(t);
      const created = await create(user, { name: 'T', template: 'Hi {{name}}' });
      const res = await t.http.patch(`${PROMPTS}/${created.id}`).set(user.auth).send({ template: '{{ b }} {{a}} {{b}}' }).expect(200);
      expect(res.body).toEqual({ ...created, template: '{{ b }} {{a}} {{b}}', variables: ['b', 'a'], updatedAt: anyDate });
      expect((await rowsOf(user))[0].variables).toEqual(['b', 'a']);
      const cleared = await t.http.patch(`${PROMPTS}/${created.id}`).set(user.auth).send({ template: 'No variables now' }).expect(200);
      expect(cleared.body.variables).toEqual([]);
    });

    it('clears the description with null and sets it with a string', async () => {
      const user = await registerUser(t);
      const created = await create(user, { name: 'T', description: 'First', template: 'x' });
      const cleared = await t.http.patch(`${PROMPTS}/${created.id}`).set(user.auth).send({ description: null }).expect(200);
      expect(cleared.body.description).toBeNull();
      const set = await t.http.patch(`${PROMPTS}/${created.id}`).set(user.auth).send({ description: 'Second' }).expect(200);
      expect(set.body.description).toBe('Second');
    });

    it('returns the template unchanged for an empty body', async () => {
      const user = await registerUser(t);
      const created = await create(user, { name: 'T', template: 'x' });
      const res = await t.http.patch(`${PROMPTS}/${created.id}`).set(user.auth).send({}).expect(200);
      expect(res.body).toEqual(created);
    });

    it.each([
      ['a null name', { name: null }, 'name must be a string'],
      ['a blank name', { name: ' ' }, 'name must not be blank'],
      ['a name of 101 characters', { name: 'n'.repeat(101) }, 'name must be shorter than or equal to 100 characters'],
      ['a null template', { template: null }, 'template must be a string'],
      ['an empty template', { template: '' }, 'template must be longer than or equal to 1 characters'],
      [
        'a template over AI_MAX_MESSAGE_LENGTH',
        { template: 't'.repeat(MAX_MESSAGE_LENGTH + 1) },
        `template must be shorter than or equal to ${MAX_MESSAGE_LENGTH} characters`,
      ],
      ['a description that is not a string', { description: ['x'] }, 'description must be a string'],
      ['variables in the body', { variables: [] }, 'property variables should not exist'],
      ['a valid change beside an unknown field', { name: 'ok', userId: '00000000-0000-4000-8000-000000000000' }, 'property userId should not exist'],
    ])('answers 400 to %s and changes nothing', async (_label, body, message) => {
      const user = await registerUser(t);
      const created = await create(user, { name: 'T', description: 'D', template: 'Hi {{name}}' });
      const before = await rowsOf(user);
      const res = await t.http.patch(`${PROMPTS}/${created.id}`).set(user.auth).send(body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: expect.arrayContaining([message]), error: 'Bad Request' });
      expect(await rowsOf(user)).toEqual(before);
    });

    it('answers 404 to an unknown id and 400 to a malformed one', async () => {
      const user = await registerUser(t);
      await t.http.patch(`${PROMPTS}/00000000-0000-4000-8000-000000000000`).set(user.auth).send({ name: 'x' }).expect(404);
      await t.http.patch(`${PROMPTS}/not-a-uuid`).set(user.auth).send({ name: 'x' }).expect(400);
    });
  });

  describe(`DELETE ${PROMPTS}/:id`, () => {
    it('deletes the template: 204, then 404', async () => {
      const user = await registerUser(t);
      const kept = await create(user, { name: 'Kept', template: 'x' });
      const gone = await create(user, { name: 'Gone', template: 'x' });
      const res = await t.http.delete(`${PROMPTS}/${gone.id}`).set(user.auth).expect(204);
      expect(res.text).toBe('');
      await t.http.get(`${PROMPTS}/${gone.id}`).set(user.auth).expect(404);
      await t.http.delete(`${PROMPTS}/${gone.id}`).set(user.auth).expect(404);
      expect((await rowsOf(user)).map((p) => p.id)).toEqual([kept.id]);
    });

    it('answers 400 to a malformed id', async () => {
      const user = await registerUser(t);
      await create(user, { name: 'T', template: 'x' });
      await t.http.delete(`${PROMPTS}/not-a-uuid`).set(user.auth).expect(400);
      expect(await rowsOf(user)).toHaveLength(1);
    });
  });

  describe('isolation and authentication', () => {
    it("answers 404 to another user's template on get, patch and delete, and leaves it alone", async () => {
      const owner = await registerUser(t, 'owner');
      const other = await registerUser(t, 'other');
      const created = await create(owner, { name: 'Private', template: 'Secret {{x}}' });
      const before = await rowsOf(owner);
      const notFound = { statusCode: 404, message: 'Prompt not found', error: 'Not Found' };
      expect((await t.http.get(`${PROMPTS}/${created.id}`).set(other.auth).expect(404)).body).toEqual(notFound);
      expect((await t.http.patch(`${PROMPTS}/${created.id}`).set(other.auth).send({ name: 'Mine now' }).expect(404)).body).toEqual(notFound);
      expect((await t.http.patch(`${PROMPTS}/${created.id}`).set(other.auth).send({}).expect(404)).body).toEqual(notFound);
      expect((await t.http.delete(`${PROMPTS}/${created.id}`).set(other.auth).expect(404)).body).toEqual(notFound);
      expect((await t.http.get(PROMPTS).set(other.auth).expect(200)).body).toEqual({ data: [], meta: { total: 0, page: 1, limit: 20, totalPages: 0 } });
      expect(await rowsOf(owner)).toEqual(before);
    });

    it('answers 401 without a token on every route', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      const unauthorized = { statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' };
      for (const res of [
        await t.http.post(PROMPTS).send({ name: 'x', template: 'x' }),
        await t.http.get(PROMPTS),
        await t.http.get(`${PROMPTS}/${id}`),
        await t.http.patch(`${PROMPTS}/${id}`).send({ name: 'x' }),
        await t.http.delete(`${PROMPTS}/${id}`),
      ]) {
        expect([res.status, res.body]).toEqual([401, unauthorized]);
      }
    });
  });

  describe(`${PromptsService.name}.render`, () => {
    const render = (user: TestUser, promptId: string, values: Record<string, string>) => t.app.get(PromptsService).render(user.id, promptId, values);

    it('fills every placeholder with its value, literally', async () => {
      const user = await registerUser(t);
      const { id } = await create(user, { name: 'T', template: 'Translate {{ text }} into {{lang}}; {{lang}} only.' });
      await expect(render(user, id, { text: '{{lang}} costs $& <b>', lang: 'French' })).resolves.toBe('Translate {{lang}} costs $& <b> into French; French only.');
    });

    it('renders a template without variables as it is', async () => {
      const user = await registerUser(t);
      const { id } = await create(user, { name: 'T', template: 'Just this.' });
      await expect(render(user, id, {})).resolves.toBe('Just this.');
    });

    it('renders the template as it stands after a change', async () => {
      const user = await registerUser(t);
      const { id } = await create(user, { name: 'T', template: 'Old {{a}}' });
      await t.http.patch(`${PROMPTS}/${id}`).set(user.auth).send({ template: 'New {{b}}' }).expect(200);
      await expect(render(user, id, { b: 'one' })).resolves.toBe('New one');
      await expect(render(user, id, { a: 'one' })).rejects.toMatchObject({ status: 400, message: 'Missing template variable: b; Unknown template variable: a' });
    });

    it.each([
      ['a missing variable', { text: 'x' }, 'Missing template variable: lang'],
      ['an unknown variable', { text: 'x', lang: 'y', tone: 'z' }, 'Unknown template variable: tone'],
    ])('refuses %s with a 400 naming it', async (_label, values, message) => {
      const user = await registerUser(t);
      const { id } = await create(user, { name: 'T', template: '{{text}} in {{lang}}' });
      await expect(render(user, id, values)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400, message });
    });

    it(`refuses a rendered text over AI_MAX_MESSAGE_LENGTH (${MAX_MESSAGE_LENGTH}) and accepts one of exactly that length`, async () => {
      const user = await registerUser(t);
      const { id } = await create(user, { name: 'T', template: 'Say: {{text}}' });
      const room = MAX_MESSAGE_LENGTH - 'Say: '.length;
      await expect(render(user, id, { text: 'x'.repeat(room) })).resolves.toHaveLength(MAX_MESSAGE_LENGTH);
      await expect(render(user, id, { text: 'x'.repeat(room + 1) })).rejects.toMatchObject({
        status: 400,
        message: `Rendered prompt is ${MAX_MESSAGE_LENGTH + 1} characters, more than AI_MAX_MESSAGE_LENGTH (${MAX_MESSAGE_LENGTH})`,
      });
    });

    it('refuses a rendered text that is blank', async () => {
      const user = await registerUser(t);
      const { id } = await create(user, { name: 'T', template: ' {{text}} ' });
      await expect(render(user, id, { text: '\n' })).rejects.toMatchObject({ status: 400, message: 'Rendered prompt must not be blank' });
    });

    it("answers 404 for another user's template and an unknown id", async () => {
      const owner = await registerUser(t, 'owner');
      const other = await registerUser(t, 'other');
      const { id } = await create(owner, { name: 'T', template: 'Hi {{name}}' });
      await expect(render(other, id, { name: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404, message: 'Prompt not found' });
      await expect(render(owner, '00000000-0000-4000-8000-000000000000', {})).rejects.toMatchObject({ status: 404, message: 'Prompt not found' });
    });
  });
});

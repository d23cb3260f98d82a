import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

type Listed = { id: string; title: string | null; pinned: boolean; archived: boolean };

describe('the conversation list: pin, archive and full-text search (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const create = async (user: TestUser, title: string): Promise<string> =>
    (await t.http.post('/api/v1/ai/conversations').set(user.auth).send({ title }).expect(201)).body.id;
  const patch = (user: TestUser, id: string, body: object) => t.http.patch(`/api/v1/ai/conversations/${id}`).set(user.auth).send(body);
  const list = async (user: TestUser, query = ''): Promise<{ data: Listed[]; meta: object }> =>
    (await t.http.get(`/api/v1/ai/conversations${query}`).set(user.auth).expect(200)).body;
  const titles = (page: { data: Listed[] }) => page.data.map((c) => c.title);
  const say = (user: TestUser, conversationId: string, message: string, answer = 'Noted.') => {
    fake.enqueue({ content: answer });
    return t.http.post('/api/v1/ai/chat').set(user.auth).send({ message, conversationId }).expect(201);
  };

  it('PATCH pins and archives; the list puts pinned ones first and leaves archived ones out unless archived=true', async () => {
    const user = await registerUser(t);
    const ids = { a: await create(user, 'a'), b: await create(user, 'b'), c: await create(user, 'c'), d: await create(user, 'd') };
    expect(titles(await list(user))).toEqual(['d', 'c', 'b', 'a']);

    const pinned = await patch(user, ids.a, { pinned: true }).expect(200);
    expect(pinned.body).toMatchObject({ id: ids.a, title: 'a', pinned: true, archived: false });
    await patch(user, ids.c, { archived: true }).expect(200);
    const shown = await list(user);
    expect(titles(shown)).toEqual(['a', 'd', 'b']);
    expect(shown.meta).toEqual({ total: 3, page: 1, limit: 20, totalPages: 1 });
    expect(shown.data[0]).toMatchObject({ pinned: true, archived: false });

    const archived = await list(user, '?archived=true');
    expect(titles(archived)).toEqual(['c']);
    expect(archived.data[0]).toMatchObject({ pinned: false, archived: true });
    expect(titles(await list(user, '?archived=false&limit=2&page=2'))).toEqual(['b']);

    // Unpinned and unarchived, they go back by recency (each PATCH made them newer).
    await patch(user, ids.a, { pinned: false }).expect(200);
    await patch(user, ids.c, { archived: false }).expect(200);
    expect(titles(await list(user))).toEqual(['c', 'a', 'd', 'b']);
  });

  it('refuses non-boolean pinned / archived and bad list queries, changing nothing; another user gets 404', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const id = await create(user, 'mine');
    const before = await t.prisma.conversation.findUniqueOrThrow({ where: { id } });
    for (const body of [{ pinned: 'yes' }, { archived: 1 }, { pinned: null }]) await patch(user, id, body).expect(400);
    await patch(other, id, { pinned: true }).expect(404, { statusCode: 404, message: 'Conversation not found', error: 'Not Found' });
    expect(await t.prisma.conversation.findUniqueOrThrow({ where: { id } })).toEqual(before);
    for (const query of ['archived=yes', 'archived=1', 'q=', 'q=%20%20', `q=${'x'.repeat(201)}`, 'q=a%00b']) {
      const res = await t.http.get(`/api/v1/ai/conversations?${query}`).set(user.auth).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    }
  });

  it('q finds a conversation by a word only in one of its messages, never another user’s, best match first', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const onlyInMessage = await create(user, 'Holiday plans');
    const inTitleToo = await create(user, 'Zanzibar notes');
    const unrelated = await create(user, 'Groceries');
    const theirs = await create(other, 'Zanzibar for them');
    await say(user, onlyInMessage, 'What is the weather like in Zanzibar in June?', 'Warm and dry.');
    await say(user, inTitleToo, 'Spice farms of Zanzibar: which ones are worth it?', 'Several are.');
    await say(user, unrelated, 'Milk, eggs, flour');
    await say(other, theirs, 'Zanzibar again');

    const found = await list(user, '?q=zanzibar');
    expect(found.data.map((c) => c.id)).toEqual([inTitleToo, onlyInMessage]);
    expect(found.meta).toEqual({ total: 2, page: 1, limit: 20, totalPages: 1 });
    // A word of an answer, and English stemming ("farm" finds "farms").
    expect((await list(user, '?q=dry')).data.map((c) => c.id)).toEqual([onlyInMessage]);
    expect((await list(user, '?q=farm')).data.map((c) => c.id)).toEqual([inTitleToo]);
    // Web search syntax: a phrase, and exclusion (a conversation matches when its title or one of
    // its messages does).
    expect((await list(user, '?q=%22weather%20like%22')).data.map((c) => c.id)).toEqual([onlyInMessage]);
    expect((await list(user, '?q=zanzibar%20-weather')).data.map((c) => c.id)).toEqual([inTitleToo]);
    // Paging applies to the matches.
    expect(await list(user, '?q=zanzibar&limit=1&page=2')).toEqual({
      data: [expect.objectContaining({ id: onlyInMessage })],
      meta: { total: 2, page: 2, limit: 1, totalPages: 2 },
    });
    // Nothing of the other user's, whose conversation matches too.
    expect((await list(other, '?q=zanzibar')).data.map((c) => c.id)).toEqual([theirs]);
    // No match, and a query of stop words only, find nothing.
    expect(await list(user, '?q=kilimanjaro')).toEqual({ data: [], meta: { total: 0, page: 1, limit: 20, totalPages: 0 } });
    expect((await list(user, '?q=the')).data).toEqual([]);

    // Archived conversations are searched with archived=true only.
    await patch(user, onlyInMessage, { archived: true }).expect(200);
    expect((await list(user, '?q=zanzibar')).data.map((c) => c.id)).toEqual([inTitleToo]);
    expect((await list(user, '?q=zanzibar&archived=true')).data.map((c) => c.id)).toEqual([onlyInMessage]);
    // A deleted conversation's messages are gone from search.
    await t.http.delete(`/api/v1/ai/conversations/${inTitleToo}`).set(user.auth).expect(204);
    expect((await list(user, '?q=zanzibar')).data).toEqual([]);
  });

  it('a pinned conversation leads ties in search', async () => {
    const user = await registerUser(t);
    const first = await create(user, 'one');
    const second = await create(user, 'two');
    await say(user, first, 'quokka');
    await say(user, second, 'quokka');
    expect((await list(user, '?q=quokka')).data.map((c) => c.id)).toEqual([second, first]);
    await patch(user, first, { pinned: true }).expect(200);
    expect((await list(user, '?q=quokka')).data.map((c) => c.id)).toEqual([first, second]);
  });
});

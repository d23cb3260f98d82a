import { insertUser, openRepositoryTier, RepositoryTier } from '../support/repository-module';

describe('ConversationRepository (PostgreSQL)', () => {
  let db: RepositoryTier;
  beforeAll(async () => (db = await openRepositoryTier()));
  afterAll(() => db.close());

  // Conversations updated one second apart, oldest first, plus two sharing one updatedAt.
  async function seed(userId: string, count: number) {
    const base = Date.UTC(2026, 0, 1);
    const rows = [];
    for (let i = 0; i < count; i++) {
      rows.push(await db.prisma.conversation.create({ data: { userId, title: `c${i}`, messageCount: i, totalTokens: i * 10, updatedAt: new Date(base + i * 1000) } }));
    }
    return rows;
  }

  describe('findPageForUser', () => {
    it('gives one page, newest updatedAt first, and the total, in one statement', async () => {
      const user = await insertUser(db.prisma);
      const rows = await seed(user.id, 5);
      const page = await db.conversations.findPageForUser(user.id, false, 1, 2);
      expect(page.total).toBe(5);
      expect(page.conversations.map((c) => c.title)).toEqual(['c3', 'c2']);
      expect(page.conversations[0]).toEqual(rows[3]);
    });

    it('orders conversations updated at the same instant by id, so pages never overlap', async () => {
      const user = await insertUser(db.prisma);
      const at = new Date(Date.UTC(2026, 1, 1));
      for (let i = 0; i < 6; i++) await db.prisma.conversation.create({ data: { userId: user.id, updatedAt: at } });
      const pages = await Promise.all([0, 2, 4].map((skip) => db.conversations.findPageForUser(user.id, false, skip, 2)));
      const ids = pages.flatMap((p) => p.conversations.map((c) => c.id));
      expect(new Set(ids).size).toBe(6);
      expect(ids).toEqual([...ids].sort().reverse());
    });

    it('past the last page: no rows, still the total', async () => {
      const user = await insertUser(db.prisma);
      await seed(user.id, 3);
      await expect(db.conversations.findPageForUser(user.id, false, 20, 20)).resolves.toEqual({ total: 3, conversations: [] });
    });

    it("shows only the user's own conversations", async () => {
      const [user, other] = [await insertUser(db.prisma), await insertUser(db.prisma)];
      await seed(other.id, 4);
      await expect(db.conversations.findPageForUser(user.id, false, 0, 20)).resolves.toEqual({ total: 0, conversations: [] });
    });
  });

  it('counts conversations and their messages from the stored counters', async () => {
    const user = await insertUser(db.prisma);
    await seed(user.id, 4);
    await expect(db.conversations.countsForUser(user.id)).resolves.toEqual({ conversations: 4, messages: 0 + 1 + 2 + 3 });
    const nobody = await insertUser(db.prisma);
    await expect(db.conversations.countsForUser(nobody.id)).resolves.toEqual({ conversations: 0, messages: 0 });
  });
});

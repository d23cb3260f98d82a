import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const MIGRATIONS = join(__dirname, '..', '..', 'prisma', 'migrations');
const BRANCHING = readdirSync(MIGRATIONS).find((name) => name.endsWith('_branching'))!;

// The migration that made messages a tree, on a database that holds flat conversations written
// before it: its own database, migrated file by file up to the migration, given data, then migrated
// to the end, and served by the app.
describe('the branching migration on existing flat conversations (e2e)', () => {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `${url.pathname}_flat_${randomBytes(3).toString('hex')}`;
  const admin = Object.assign(new URL(url), { pathname: '/postgres' }).toString();
  let db: pg.Client;
  let fake: FakeLlm;
  let t: TestApp;

  const apply = async (names: string[]) => {
    for (const name of names) await db.query(readFileSync(join(MIGRATIONS, name, 'migration.sql'), 'utf8'));
  };

  beforeAll(async () => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`CREATE DATABASE "${url.pathname.slice(1)}"`);
    await client.end();
    db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    fake = await startFakeLlm();
  });
  afterAll(async () => {
    await t?.close();
    await fake.close();
    await db.end();
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
    await client.end();
  });

  it('chains each conversation’s messages in creation order, and the app shows, continues and searches them as one branch', async () => {
    const names = readdirSync(MIGRATIONS, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    await apply(names.filter((name) => name < BRANCHING));

    // Two flat conversations, written the old way (no parent column yet); rows inserted out of order.
    const userId = randomUUID();
    await db.query(`INSERT INTO "User" ("id", "email", "passwordHash", "tokenLimit", "updatedAt") VALUES ($1, 'old@example.com', 'x', 1000000, now())`, [userId]);
    const [flat, other] = [randomUUID(), randomUUID()];
    for (const id of [flat, other]) {
      await db.query(`INSERT INTO "Conversation" ("id", "userId", "title", "messageCount", "updatedAt") VALUES ($1, $2, 'old', 4, now())`, [id, userId]);
    }
    const at = (minute: number) => `2026-01-01T10:${String(minute).padStart(2, '0')}:00Z`;
    const rows: [string, string, string, string][] = [
      [flat, 'ASSISTANT', 'Second: an answer about albatrosses', at(2)],
      [flat, 'USER', 'First: tell me about albatrosses', at(1)],
      [other, 'USER', 'Elsewhere', at(1)],
      [flat, 'ASSISTANT', 'Fourth', at(4)],
      [flat, 'USER', 'Third', at(3)],
    ];
    for (const [conversationId, role, content, createdAt] of rows) {
      await db.query(`INSERT INTO "Message" ("id", "conversationId", "role", "content", "createdAt") VALUES ($1, $2, $3::"Role", $4, $5)`, [
        randomUUID(),
        conversationId,
        role,
        content,
        createdAt,
      ]);
    }

    await apply(names.filter((name) => name >= BRANCHING));
    const { rows: chained } = await db.query<{ content: string; parent: string | null }>(`
      SELECT m."content", p."content" AS "parent" FROM "Message" m LEFT JOIN "Message" p ON p."id" = m."parentId"
      ORDER BY m."conversationId" = '${flat}' DESC, m."createdAt"`);
    expect(chained).toEqual([
      { content: 'First: tell me about albatrosses', parent: null },
      { content: 'Second: an answer about albatrosses', parent: 'First: tell me about albatrosses' },
      { content: 'Third', parent: 'Second: an answer about albatrosses' },
      { content: 'Fourth', parent: 'Third' },
      { content: 'Elsewhere', parent: null },
    ]);

    // The app on the migrated database: the owner (a new account, given the old conversation).
    t = await startTestApp({ DATABASE_URL: url.toString(), OPENAI_BASE_URL: fake.baseUrl });
    const owner = await registerUser(t);
    await db.query(`UPDATE "Conversation" SET "userId" = $1`, [owner.id]);
    const shown = (await t.http.get(`/api/v1/ai/conversations/${flat}`).set(owner.auth).expect(200)).body;
    expect(shown.messages.map((m: { content: string }) => m.content)).toEqual([
      'First: tell me about albatrosses',
      'Second: an answer about albatrosses',
      'Third',
      'Fourth',
    ]);
    expect(shown.messages.map((m: { siblingIds: string[] }) => m.siblingIds.length)).toEqual([1, 1, 1, 1]);

    // The next turn follows the last message, with the whole history.
    await t.http.post('/api/v1/ai/chat').set(owner.auth).send({ message: 'Fifth', conversationId: flat }).expect(201);
    expect(fake.chatRequests()[0].body.messages.map((m: { content: string }) => m.content)).toEqual([
      'First: tell me about albatrosses',
      'Second: an answer about albatrosses',
      'Third',
      'Fourth',
      'Fifth',
    ]);
    // Messages written before the migration are searchable.
    const found = (await t.http.get('/api/v1/ai/conversations?q=albatross').set(owner.auth).expect(200)).body;
    expect(found.data.map((c: { id: string }) => c.id)).toEqual([flat]);
  });
});

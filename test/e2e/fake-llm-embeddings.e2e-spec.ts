// The fake upstream's embeddings (test/support/fake-llm.mjs) through the real `openai` SDK: a hashed
// bag of words, deterministic, of the requested length, the same in float and base64, and near for
// texts that share words, which is what the knowledge tests rank with.
import OpenAI from 'openai';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';

const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i], 0);

describe('fake LLM upstream: embeddings (e2e)', () => {
  let fake: FakeLlm;
  let openai: OpenAI;

  beforeAll(async () => {
    fake = await startFakeLlm();
    openai = new OpenAI({ apiKey: 'x', baseURL: fake.baseUrl, maxRetries: 0 });
  });
  afterAll(() => fake.close());

  const embed = async (input: string[], options: { dimensions?: number; encoding_format?: 'float' | 'base64' } = {}) =>
    (await openai.embeddings.create({ model: 'text-embedding-3-small', input, ...options })).data.map((d) => d.embedding);

  it('answers unit vectors of the requested length, 8 without one, in the order of the inputs', async () => {
    const [a, b] = await embed(['first text', 'second text'], { dimensions: 64 });
    expect([a.length, b.length]).toEqual([64, 64]);
    expect(dot(a, a)).toBeCloseTo(1, 5);
    expect((await embed(['x']))[0]).toHaveLength(8);
  });

  it('is deterministic and the same as float or base64 (the SDK default)', async () => {
    const texts = ['Rockets reach orbit.', '', '!!!'];
    const base64 = await embed(texts, { dimensions: 32 });
    expect(await embed(texts, { dimensions: 32, encoding_format: 'float' })).toEqual(base64);
    expect(await embed(texts, { dimensions: 32 })).toEqual(base64);
    // A text without words still has a direction.
    for (const vector of base64) expect(dot(vector, vector)).toBeCloseTo(1, 5);
  });

  it('puts texts that share words nearer than texts that share none, whatever the case', async () => {
    const [query, related, unrelated] = await embed(['How do ROCKETS reach orbit?', 'Rockets launch satellites into orbit.', 'Bread dough rises with yeast.'], {
      dimensions: 1536,
    });
    expect(dot(query, related)).toBeGreaterThan(0.3);
    expect(Math.abs(dot(query, unrelated))).toBeLessThan(0.1);
  });
});

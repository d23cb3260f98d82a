import fc from 'fast-check';
import { countChunkTokens, splitIntoChunks, TextChunk } from './text-chunker';

const sentence = (i: number) => `Sentence number ${i} talks about topic ${i % 7} in a few plain words. `;
const sentences = (n: number) => Array.from({ length: n }, (_, i) => sentence(i)).join('');

// What every split must hold: chunks are slices of the text in order, within the size, each one
// starting no later than the previous one ended (no gap: no text lost) and moving on.
function expectWellFormed(text: string, chunks: TextChunk[], chunkTokens: number) {
  chunks.forEach((chunk, i) => {
    expect(chunk.index).toBe(i);
    expect(chunk.content).toBe(text.slice(chunk.start, chunk.end));
    expect(chunk.tokens).toBe(countChunkTokens(chunk.content));
    expect(chunk.tokens).toBeLessThanOrEqual(chunkTokens);
    if (i > 0) {
      expect(chunk.start).toBeLessThanOrEqual(chunks[i - 1].end);
      expect(chunk.start).toBeGreaterThan(chunks[i - 1].start);
      expect(chunk.end).toBeGreaterThan(chunks[i - 1].end);
    }
  });
  // Only whitespace may lie outside the chunks.
  expect(text.slice(0, chunks[0]?.start ?? text.length).trim()).toBe('');
  expect(text.slice(chunks.at(-1)?.end ?? 0).trim()).toBe('');
}

describe(splitIntoChunks.name, () => {
  it('keeps a text that fits as one chunk', () => {
    const text = 'A short note.\nWith two lines.';
    expect(splitIntoChunks(text, { chunkTokens: 100, overlapTokens: 10 })).toEqual([
      { index: 0, content: text, tokens: countChunkTokens(text), start: 0, end: text.length },
    ]);
  });

  it('returns no chunk for an empty or blank text', () => {
    expect(splitIntoChunks('', { chunkTokens: 100, overlapTokens: 10 })).toEqual([]);
    expect(splitIntoChunks(' \n\n\t ', { chunkTokens: 100, overlapTokens: 10 })).toEqual([]);
  });

  it('fills chunks up to the size, cut between sentences', () => {
    const text = sentences(200);
    const chunks = splitIntoChunks(text, { chunkTokens: 120, overlapTokens: 0 });
    expectWellFormed(text, chunks, 120);
    expect(chunks.length).toBeGreaterThan(10);
    // Full: no chunk but the last could have taken the next sentence.
    for (const chunk of chunks.slice(0, -1)) expect(chunk.tokens).toBeGreaterThan(120 - countChunkTokens(sentence(199)) - 2);
    for (const chunk of chunks) expect(chunk.content).toMatch(/^Sentence number \d+ .* words\. $/s);
  });

  it('without overlap, the chunks put together are the text', () => {
    const text = sentences(150);
    const chunks = splitIntoChunks(text, { chunkTokens: 100, overlapTokens: 0 });
    expect(chunks.map((c) => c.content).join('')).toBe(text);
  });

  it('repeats whole sentences of the end of each chunk, at most the overlap in tokens', () => {
    const text = sentences(200);
    const chunks = splitIntoChunks(text, { chunkTokens: 150, overlapTokens: 40 });
    expectWellFormed(text, chunks, 150);
    for (let i = 1; i < chunks.length; i++) {
      const repeated = text.slice(chunks[i].start, chunks[i - 1].end);
      expect(repeated).toMatch(/^Sentence number \d+ .* words\. $/s);
      expect(countChunkTokens(repeated)).toBeLessThanOrEqual(40);
    }
  });

  it('cuts a sentence longer than a chunk after its words', () => {
    const text = `${'word '.repeat(300)}end.`;
    const chunks = splitIntoChunks(text, { chunkTokens: 50, overlapTokens: 5 });
    expectWellFormed(text, chunks, 50);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.content).toMatch(/ $/);
  });

  it('cuts a run without whitespace by bytes, never inside a character', () => {
    const text = `${'🤖é漢'.repeat(200)}`;
    const chunks = splitIntoChunks(text, { chunkTokens: 60, overlapTokens: 0 });
    expectWellFormed(text, chunks, 60);
    expect(chunks.map((c) => c.content).join('')).toBe(text);
    for (const chunk of chunks) expect(chunk.content).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/);
  });

  it('cuts unspaced CJK text after its sentence ends', () => {
    const text = '我们在春天种西红柿。玫瑰需要阳光和水！'.repeat(40);
    const chunks = splitIntoChunks(text, { chunkTokens: 60, overlapTokens: 0 });
    expectWellFormed(text, chunks, 60);
    for (const chunk of chunks) expect(chunk.content).toMatch(/[。！]$/);
  });

  it('splits a long run of symbols without tokenizing it whole', () => {
    const text = '€'.repeat(12_000);
    const started = performance.now();
    const chunks = splitIntoChunks(text, { chunkTokens: 500, overlapTokens: 50 });
    expect(performance.now() - started).toBeLessThan(3_000);
    expectWellFormed(text, chunks, 500);
  });

  it('counts special-token markers as plain text', () => {
    const [chunk] = splitIntoChunks('Ends with <|endoftext|> here.', { chunkTokens: 100, overlapTokens: 0 });
    expect(chunk.content).toBe('Ends with <|endoftext|> here.');
  });

  it('loses no text and keeps every chunk within the size, whatever the text', () => {
    const word = fc.oneof(fc.constantFrom('alpha', 'beta', 'gamma', 'δέλτα', '漢字', '🤖'), fc.string({ minLength: 1, maxLength: 12 }));
    const separator = fc.constantFrom(' ', '  ', '. ', '! ', '\n', '\n\n', '? ', '; ', '');
    const text = fc.array(fc.tuple(word, separator), { maxLength: 400 }).map((parts) => parts.map(([w, s]) => w + s).join(''));
    const sizes = fc.integer({ min: 50, max: 200 }).chain((chunkTokens) => fc.tuple(fc.constant(chunkTokens), fc.integer({ min: 0, max: chunkTokens - 1 })));
    fc.assert(
      fc.property(text, sizes, (input, [chunkTokens, overlapTokens]) => {
        const chunks = splitIntoChunks(input, { chunkTokens, overlapTokens });
        expectWellFormed(input, chunks, chunkTokens);
        // Every non-blank character is in some chunk.
        let covered = 0;
        for (const chunk of chunks) covered = Math.max(covered, chunk.end);
        expect(input.slice(covered).trim()).toBe('');
      }),
      { numRuns: 150 },
    );
  });
});

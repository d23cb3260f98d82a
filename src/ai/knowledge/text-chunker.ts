// Splits a document's text into overlapping chunks of about `chunkTokens` tokens (o200k_base,
// through gpt-tokenizer), cut between sentences where the text allows it.
//
// Our own few lines rather than a splitter package: LangChain's text splitters need @langchain/core
// (a framework) beside them, and the small standalone ones are ESM-only 0.x releases with a handful
// of users. This one counts with the tokenizer the service already uses, and keeps every chunk a
// slice of the text (its offsets), which is what makes "no text lost" checkable.

export interface ChunkingOptions {
  chunkTokens: number;
  // Tokens of the end of one chunk that the next one repeats (whole sentences, so at most this many).
  overlapTokens: number;
}

export interface TextChunk {
  index: number;
  content: string;
  tokens: number;
  // The chunk is text.slice(start, end).
  start: number;
  end: number;
}

interface Piece {
  start: number;
  end: number;
  tokens: number;
}

type Counter = (text: string) => number;

// Special-token markers such as <|endoftext|> in a document are plain text here.
const NO_SPECIAL_TOKENS = { disallowedSpecial: new Set<string>() };
let tokenizer: { countTokens(text: string, options: typeof NO_SPECIAL_TOKENS): number } | undefined;

export function countChunkTokens(text: string): number {
  // Loaded on first use: its tables are large, and only the ingestion needs them.
  tokenizer ??= require('gpt-tokenizer') as NonNullable<typeof tokenizer>;
  return text ? tokenizer.countTokens(text, NO_SPECIAL_TOKENS) : 0;
}

// A cut after each line break and after each sentence end (with its closing quotes or brackets and
// the whitespace after it; CJK sentence ends need none); a sentence too long for a chunk is cut
// after its words; a word too long for a chunk is cut by bytes.
const SENTENCE_END = /\n\s*|[.!?;…]+["'”’)\]]*\s+|[。！？；]+["'”’」』)\]]*\s*/g;
const WORD_END = /\s+/g;
// Longer slices are not counted before they are cut: they almost never fit (a token is ~4
// characters of English), and the tokenizer's cost grows fast with the length of a run without
// whitespace. Cutting one that would have fit costs nothing: the pieces are packed together again.
const CHARS_PER_TOKEN_CEILING = 4;

export function splitIntoChunks(text: string, { chunkTokens, overlapTokens }: ChunkingOptions, count: Counter = countChunkTokens): TextChunk[] {
  const pieces = cutAt(text, 0, text.length, SENTENCE_END).flatMap(([start, end]) => fitPiece(text, start, end, chunkTokens, count));
  const chunks: TextChunk[] = [];
  let first = 0;
  while (first < pieces.length) {
    let last = first;
    let tokens = pieces[first].tokens;
    while (last + 1 < pieces.length && tokens + pieces[last + 1].tokens <= chunkTokens) tokens += pieces[++last].tokens;
    const start = pieces[first].start;
    const end = pieces[last].end;
    const content = text.slice(start, end);
    if (/\S/.test(content)) chunks.push({ index: chunks.length, content, tokens: count(content), start, end });
    if (last + 1 >= pieces.length) break;
    first = overlapStart(pieces, first, last, overlapTokens, chunkTokens);
  }
  return chunks;
}

// Where the next chunk starts: the last whole pieces of this one that fit in the overlap, as long
// as the next new piece still fits beside them; always after `first`, so every chunk moves on.
function overlapStart(pieces: Piece[], first: number, last: number, overlapTokens: number, chunkTokens: number): number {
  const room = Math.min(overlapTokens, chunkTokens - pieces[last + 1].tokens);
  let next = last + 1;
  let repeated = 0;
  while (next - 1 > first && repeated + pieces[next - 1].tokens <= room) repeated += pieces[--next].tokens;
  return next;
}

// The slice as one piece when it fits in a chunk, else cut after its words, else by bytes.
function fitPiece(text: string, start: number, end: number, maxTokens: number, count: Counter, isWords = false): Piece[] {
  if (end - start <= maxTokens * CHARS_PER_TOKEN_CEILING) {
    const tokens = count(text.slice(start, end));
    if (tokens <= maxTokens) return [{ start, end, tokens }];
  }
  const words = isWords ? [] : cutAt(text, start, end, WORD_END);
  if (words.length > 1) return words.flatMap(([s, e]) => fitPiece(text, s, e, maxTokens, count, true));
  return cutByBytes(text, start, end, maxTokens, count);
}

// Cuts [start, end) after every match of `separator`; the pieces cover it exactly.
function cutAt(text: string, start: number, end: number, separator: RegExp): Array<[number, number]> {
  const cuts: Array<[number, number]> = [];
  const pattern = new RegExp(separator.source, 'g');
  pattern.lastIndex = start;
  let from = start;
  for (let match = pattern.exec(text); match && match.index < end; match = pattern.exec(text)) {
    if (match[0].length === 0) pattern.lastIndex++;
    const cut = Math.min(match.index + match[0].length, end);
    if (cut > from) cuts.push([from, cut]);
    from = cut;
  }
  if (from < end) cuts.push([from, end]);
  return cuts;
}

// A run without whitespace longer than a chunk (a URL list, base64, unspaced CJK): pieces of at
// most `maxTokens` UTF-8 bytes, cut between code points. A token is at least one byte, so each
// fits; packing then puts as many of them into a chunk as its tokens allow.
function cutByBytes(text: string, start: number, end: number, maxTokens: number, count: Counter): Piece[] {
  const pieces: Piece[] = [];
  let from = start;
  let bytes = 0;
  for (let at = start; at < end;) {
    const codePoint = text.codePointAt(at)!;
    const width = codePoint > 0xffff ? 2 : 1;
    const size = codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    if (bytes + size > maxTokens) {
      pieces.push({ start: from, end: at, tokens: count(text.slice(from, at)) });
      from = at;
      bytes = 0;
    }
    bytes += size;
    at += width;
  }
  pieces.push({ start: from, end, tokens: count(text.slice(from, end)) });
  return pieces;
}

import { TITLE_MAX_LENGTH } from './chat.constants';
import { titleFrom } from './conversation-title';

describe(titleFrom.name, () => {
  it('puts the first message on one trimmed line', () => {
    expect(titleFrom('  Explain\n\tNestJS   to me  ')).toBe('Explain NestJS to me');
  });

  it(`keeps a message of exactly ${TITLE_MAX_LENGTH} characters whole`, () => {
    const message = 'x'.repeat(TITLE_MAX_LENGTH);
    expect(titleFrom(message)).toBe(message);
  });

  it('cuts a longer one with an ellipsis, without a trailing space before it', () => {
    expect(titleFrom('y'.repeat(TITLE_MAX_LENGTH + 1))).toBe(`${'y'.repeat(TITLE_MAX_LENGTH - 1)}…`);
    // The cut falls right after a space: the space goes, the title is one character shorter.
    expect(titleFrom(`${'a'.repeat(TITLE_MAX_LENGTH - 2)} ${'b'.repeat(10)}`)).toBe(`${'a'.repeat(TITLE_MAX_LENGTH - 2)}…`);
  });
});

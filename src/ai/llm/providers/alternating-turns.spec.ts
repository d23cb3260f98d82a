import { toAlternatingTurns } from './alternating-turns';

describe(toAlternatingTurns.name, () => {
  it('sets the system prompt apart and keeps alternating turns as they are', () => {
    expect(
      toAlternatingTurns([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ]),
    ).toEqual({
      system: 'Be brief.',
      turns: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ],
    });
  });

  it('drops answers before the first question and joins consecutive messages of one role', () => {
    expect(
      toAlternatingTurns([
        { role: 'assistant', content: 'orphan' },
        { role: 'user', content: 'a' },
        { role: 'user', content: 'a2' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ]),
    ).toEqual({
      system: undefined,
      turns: [
        { role: 'user', content: 'a\n\na2' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ],
    });
  });
});

import { cleanTitle } from './conversation-titles.service';

describe('cleanTitle', () => {
  it.each([
    ['How Volcanoes Form', 'How Volcanoes Form'],
    ['"How Volcanoes Form."', 'How Volcanoes Form'],
    ['"Title: How Volcanoes Form."', 'How Volcanoes Form'],
    ['Title: **Baking Bread**', 'Baking Bread'],
    ['# Tides explained\nSome explanation after it', 'Tides explained'],
    ['\n\n  “Quoted”  \n', 'Quoted'],
    ['Many   spaces\tinside', 'Many spaces inside'],
    ['', ''],
    ['  \n ', ''],
  ])('%j → %j', (raw, title) => {
    expect(cleanTitle(raw)).toBe(title);
  });

  it('cuts a long title to 80 characters with an ellipsis', () => {
    const title = cleanTitle('word '.repeat(40));
    expect(title).toHaveLength(80);
    expect(title.endsWith('…')).toBe(true);
  });
});

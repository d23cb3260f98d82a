import { branchOf, StoredMessage, withSiblings } from './message-tree';

// q1 → a1 → q2 → a2, with q2' (an edit, beside q2) → a2', and a1' (a regenerate, beside a1); oldest first.
const m = (id: string, parentId: string | null) => ({ id, parentId }) as StoredMessage;
const messages = [m('q1', null), m('a1', 'q1'), m('q2', 'a1'), m('a2', 'q2'), m('q2e', 'a1'), m('a2e', 'q2e'), m('a1r', 'q1')];
const ids = (branch: { id: string }[] | null) => branch?.map(({ id }) => id);

describe('message tree', () => {
  it('gives every message its parent’s children, oldest first', () => {
    expect(withSiblings(messages).map(({ message, siblingIds }) => [message.id, siblingIds])).toEqual([
      ['q1', ['q1']],
      ['a1', ['a1', 'a1r']],
      ['q2', ['q2', 'q2e']],
      ['a2', ['a2']],
      ['q2e', ['q2', 'q2e']],
      ['a2e', ['a2e']],
      ['a1r', ['a1', 'a1r']],
    ]);
  });

  it('shows the path to the newest message by default, or to the leaf asked for', () => {
    expect(ids(branchOf(messages, null))).toEqual(['q1', 'a1r']);
    expect(ids(branchOf(messages, 'a2'))).toEqual(['q1', 'a1', 'q2', 'a2']);
    expect(ids(branchOf(messages, 'a2e'))).toEqual(['q1', 'a1', 'q2e', 'a2e']);
    expect(ids(branchOf(messages, 'q2e'))).toEqual(['q1', 'a1', 'q2e']);
    expect(branchOf(messages, 'a2e')![2].siblingIds).toEqual(['q2', 'q2e']);
  });

  it('answers null for a leaf that is not there, and an empty branch for no messages', () => {
    expect(branchOf(messages, 'elsewhere')).toBeNull();
    expect(branchOf([], null)).toEqual([]);
    expect(branchOf([], 'a1')).toBeNull();
  });

  it('several first messages are siblings of each other', () => {
    const roots = [m('r1', null), m('r2', null)];
    expect(withSiblings(roots).map(({ siblingIds }) => siblingIds)).toEqual([
      ['r1', 'r2'],
      ['r1', 'r2'],
    ]);
  });
});

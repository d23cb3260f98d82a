import type { Message } from '../../generated/prisma/client';

// A message with the ids of its parent's children (itself included, oldest first).
export type MessageInBranch = Message & { siblingIds: string[] };

// A conversation's messages (oldest first) as a tree: each message with its siblings.
export function withSiblings(messages: Message[]): MessageInBranch[] {
  const children = new Map<string | null, string[]>();
  for (const message of messages) {
    const siblings = children.get(message.parentId) ?? [];
    siblings.push(message.id);
    children.set(message.parentId, siblings);
  }
  return messages.map((message) => ({ ...message, siblingIds: children.get(message.parentId)! }));
}

// The branch that ends at `leafId` (default: the newest message, the last of `messages`), first
// message first, each with its siblings. Null: `leafId` is not one of the messages.
export function branchOf(messages: Message[], leafId: string | null): MessageInBranch[] | null {
  if (messages.length === 0) return leafId === null ? [] : null;
  const tree = withSiblings(messages);
  const byId = new Map(tree.map((message) => [message.id, message]));
  let current = leafId === null ? tree.at(-1) : byId.get(leafId);
  if (!current) return null;
  const path: MessageInBranch[] = [];
  // Parents are always older than their children, so the walk ends; the size bound guards it anyway.
  while (current && path.length < tree.length) {
    path.push(current);
    current = current.parentId === null ? undefined : byId.get(current.parentId);
  }
  return path.reverse();
}

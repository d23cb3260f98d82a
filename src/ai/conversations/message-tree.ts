import type { Message } from '../../generated/prisma/client';

// What a conversation read shows of a message.
export type StoredMessage = Pick<
  Message,
  | 'id'
  | 'parentId'
  | 'role'
  | 'content'
  | 'promptTokens'
  | 'completionTokens'
  | 'tokens'
  | 'costUsd'
  | 'model'
  | 'status'
  | 'flagged'
  | 'categories'
  | 'citations'
  | 'createdAt'
>;

// A message with the ids of its parent's children (itself included, oldest first).
export interface MessageWithSiblings {
  message: StoredMessage;
  siblingIds: string[];
}

// Each parent's children, oldest first (`messages` are oldest first); first messages under null.
function childrenOf(messages: StoredMessage[]): Map<string | null, string[]> {
  const children = new Map<string | null, string[]>();
  for (const message of messages) {
    const siblings = children.get(message.parentId);
    if (siblings) siblings.push(message.id);
    else children.set(message.parentId, [message.id]);
  }
  return children;
}

// A conversation's messages (oldest first) as a tree: each message with its siblings.
export function withSiblings(messages: StoredMessage[]): MessageWithSiblings[] {
  const children = childrenOf(messages);
  return messages.map((message) => ({ message, siblingIds: children.get(message.parentId)! }));
}

// The branch that ends at `leafId` (default: the newest message, the last of `messages`), first
// message first, each with its siblings. Null: `leafId` is not one of the messages. Nothing is
// copied: a long conversation's read allocates only the branch.
export function branchOf(messages: StoredMessage[], leafId: string | null): MessageWithSiblings[] | null {
  if (messages.length === 0) return leafId === null ? [] : null;
  const byId = new Map<string, StoredMessage>();
  for (const message of messages) byId.set(message.id, message);
  let current = leafId === null ? messages.at(-1) : byId.get(leafId);
  if (!current) return null;
  const path: StoredMessage[] = [];
  // Parents are always older than their children, so the walk ends; the size bound guards it anyway.
  while (current && path.length < messages.length) {
    path.push(current);
    current = current.parentId === null ? undefined : byId.get(current.parentId);
  }
  const children = childrenOf(messages);
  return path.reverse().map((message) => ({ message, siblingIds: children.get(message.parentId)! }));
}

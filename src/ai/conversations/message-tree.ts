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

// A message's place in its conversation's tree.
export type TreeNode = Pick<Message, 'id' | 'parentId'>;

// A message with the ids of its parent's children (itself included, oldest first).
export interface MessageWithSiblings {
  message: StoredMessage;
  siblingIds: string[];
}

// Each parent's children, oldest first (`messages` are oldest first); first messages under null.
function childrenOf(messages: TreeNode[]): Map<string | null, string[]> {
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

// The branch that ends at `leafId` (default: the newest message, the last of `nodes`), first
// message first, each with its siblings. Null: `leafId` is not one of the messages.
export function branchOf(nodes: TreeNode[], leafId: string | null): { id: string; siblingIds: string[] }[] | null {
  if (nodes.length === 0) return leafId === null ? [] : null;
  const byId = new Map<string, TreeNode>();
  for (const node of nodes) byId.set(node.id, node);
  let current = leafId === null ? nodes.at(-1) : byId.get(leafId);
  if (!current) return null;
  const path: TreeNode[] = [];
  // Parents are always older than their children, so the walk ends; the size bound guards it anyway.
  while (current && path.length < nodes.length) {
    path.push(current);
    current = current.parentId === null ? undefined : byId.get(current.parentId);
  }
  const children = childrenOf(nodes);
  return path.reverse().map((node) => ({ id: node.id, siblingIds: children.get(node.parentId)! }));
}

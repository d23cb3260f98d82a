// Checks parsed JSON (bodies, query objects, socket payloads) before the DTO layer walks it.
// - Depth: class-transformer and class-validator recurse, and overflow the stack on JSON nested a
//   few thousand levels deep (a 60 kB body), which ended as a 500. No input nests past two levels.
// - `__proto__`, `prototype` and keys that name Object.prototype members (`constructor`,
//   `toString`…): class-transformer or the whitelist skip them instead of flagging them, so
//   `{ "message": "hi", "constructor": 1 }` was accepted. They are unknown properties like any other.
// - Text that is not well-formed: PostgreSQL cannot store NUL (the insert failed with a 500), bcrypt
//   would silently cut a password at it, and an unpaired surrogate made the e-mail validator throw.
const MAX_JSON_DEPTH = 32;

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for.
const NUL_OR_LONE_SURROGATE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// Why `value` must be refused, or undefined when it is fine. Iterative, so that checking a hostile
// value cannot overflow the stack itself.
export function findUnsafeJson(value: unknown): string | undefined {
  const pending: Array<[unknown, number, string]> = [[value, 1, 'input']];
  while (pending.length) {
    const [current, depth, name] = pending.pop()!;
    if (typeof current === 'string' && NUL_OR_LONE_SURROGATE.test(current)) return `${name} must be well-formed text without NUL characters`;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > MAX_JSON_DEPTH) return `input is nested more than ${MAX_JSON_DEPTH} levels deep`;
    for (const key of Object.keys(current)) {
      if (key === '__proto__' || key === 'prototype' || Object.hasOwn(Object.prototype, key) || NUL_OR_LONE_SURROGATE.test(key)) {
        return `property ${JSON.stringify(key).slice(1, -1)} should not exist`;
      }
      pending.push([(current as Record<string, unknown>)[key], depth + 1, key]);
    }
  }
  return undefined;
}

import { findUnsafeJson } from './json-safety';

const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
};

describe(findUnsafeJson.name, () => {
  it.each([
    ['a primitive', 'text'],
    ['a flat DTO', { message: 'hi', maxTokens: 5, conversationId: null, userId: 'x' }],
    ['exactly the depth limit', nested(32)],
    ['keys that merely contain prototype names', { constructorName: 1, my__proto__: 2 }],
    ['any well-formed Unicode', { message: '𝕳𝖊𝖑𝖑𝖔 🤖 👩‍👩‍👧 \u202E\uFEFF ｔｅｓｔ é' }],
  ])('accepts %s', (_label, value) => {
    expect(findUnsafeJson(value)).toBeUndefined();
  });

  it.each([
    ['one level past the limit, through objects and arrays', nested(33)],
    ['a million levels, without overflowing the stack itself', nested(1_000_000)],
  ])('refuses %s as too deep', (_label, value) => {
    expect(findUnsafeJson(value)).toBe('input is nested more than 32 levels deep');
  });

  it.each(['__proto__', 'prototype', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'])('refuses a %s key, also nested', (key) => {
    expect(findUnsafeJson(JSON.parse(`{"message":"hi","${key}":1}`))).toBe(`property ${key} should not exist`);
    expect(findUnsafeJson(JSON.parse(`{"message":{"${key}":{"x":1}}}`))).toBe(`property ${key} should not exist`);
  });

  it.each([
    ['a NUL character', 'a\u0000b'],
    ['an unpaired high surrogate', 'emoji cut in half \uD83E'],
    ['an unpaired low surrogate', '\uDD16 tail'],
  ])('refuses a string with %s, wherever it is', (_label, text) => {
    expect(findUnsafeJson({ message: text })).toBe('message must be well-formed text without NUL characters');
    expect(findUnsafeJson({ messages: [{ content: text }] })).toBe('content must be well-formed text without NUL characters');
    expect(findUnsafeJson(text)).toBe('input must be well-formed text without NUL characters');
    expect(findUnsafeJson({ [text]: 1 })).toMatch(/^property .* should not exist$/);
  });
});

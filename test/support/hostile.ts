import fc from 'fast-check';

// Arbitraries for hostile input: what a fuzzer or an attacker sends instead of a well-formed
// request. Used by test/e2e/reliability/hostile-input.e2e-spec.ts.

// Keys that reach into prototypes or that name fields a client must never set.
export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
export const PRIVILEGED_KEYS = ['userId', 'id', 'tokenLimit', 'totalTokensUsed', 'reservedTokens', 'passwordHash', 'role', 'isAdmin', 'status', 'tokens'];

const SPECIAL_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uFEFF',
  '\uD800',
  '\u202E gnp.exe',
  '𝕳𝖊𝖑𝖑𝖔 🤖👩‍👩‍👧',
  'ｔｅｓｔ',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '0x10',
  '\'; DROP TABLE "User"; --',
  '{"$gt": ""}',
  '../../../etc/passwd',
  '%00%2e%2e%2f',
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  '\r\nX-Injected: 1',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...SPECIAL_STRINGS),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  // Long ones: past every configured length, in one-, two-, three- and four-byte characters.
  fc.tuple(fc.constantFrom('x', 'é', '€', '🤖', '\u0000'), fc.integer({ min: 2_000, max: 12_000 })).map(([c, n]) => c.repeat(n)),
);

// A JSON object nested `depth` deep, e.g. {"a":{"a":{...}}} (deeper still: the hostile-input spec
// sends raw strings; these stay shallow enough for fast-check to print a counterexample).
const deeplyNested = fc.integer({ min: 20, max: 300 }).map((depth) => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
});

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...POLLUTING_KEYS, ...PRIVILEGED_KEYS),
  hostileString.filter((s) => s.length < 100),
);

// Any JSON value, biased towards the nasty ones. Objects are built with defineProperty so that a
// `__proto__` key is an own property that JSON.stringify sends, as a raw client would.
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 + 1, Number.MAX_VALUE, -Number.MIN_VALUE),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
    deeplyNested,
  ),
  object: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map(ownObject),
})).value;

export function ownObject(entries: Array<[string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

export type FieldType = 'string' | 'number' | 'array' | 'boolean-or-object';

// A value of any JSON type but `type` (and never null, which optional fields accept). A field that
// takes a boolean or an object (`knowledge`, `variables`) gets strings and numbers: whether a given
// boolean or object is valid depends on the field.
export function wrongTypeFor(type: FieldType): fc.Arbitrary<unknown> {
  if (type === 'array') return hostileValue.filter((v) => v !== null && !Array.isArray(v));
  if (type === 'boolean-or-object') return hostileValue.filter((v) => typeof v === 'string' || typeof v === 'number');
  return hostileValue.filter((v) => v !== null && typeof v !== type);
}

// encodeURIComponent, but total: a lone surrogate is sent as the bytes Node would write for it
// (U+FFFD) instead of throwing.
export const percentEncode = (text: string): string =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');

// Deterministic embeddings shared by the fake upstream (POST /v1/embeddings) and figure 9's seeding,
// so that the vectors the bench writes straight into the database and the ones the service gets
// from the fake live in one space.
//
// A fixed vector for every input (what the fake answered before) makes every search a tie, and
// independent random vectors in 1,536 dimensions are all about equally far apart: with either,
// recall@5 of an approximate index means nothing. Real embeddings sit on a low-dimensional,
// clustered manifold, so these do too: a point near one of CLUSTERS centres in a LATENT-dimensional
// space, mapped into the requested dimensions by a fixed random basis, plus a little isotropic noise,
// normalised.
//
// A text that names `#<n>` gets the latent point of n, nudged by a hash of the whole text: every
// text naming #n lands near every other (a query "about #n" near the chunk "#n", but not on it).
// Any other text gets a point of its own from its hash.
const LATENT = 24;
const CLUSTERS = 64;
const SPREAD = 0.7;
const NUDGE = 0.12;
const NOISE = 0.02;

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(next) {
  const u = next() || 1e-12;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const centres = (() => {
  const next = rng(0xc1a55);
  return Array.from({ length: CLUSTERS }, () => Float64Array.from({ length: LATENT }, () => gaussian(next)));
})();

// One basis per dimension count asked for (the fake honours `dimensions`).
const bases = new Map();
function basis(dimensions) {
  let b = bases.get(dimensions);
  if (!b) {
    const next = rng(0xba515 + dimensions);
    b = Float32Array.from({ length: LATENT * dimensions }, () => gaussian(next));
    bases.set(dimensions, b);
  }
  return b;
}

const ANCHOR = /#(\d+)\b/;

export function embedText(text, dimensions = 1536) {
  const anchor = ANCHOR.exec(text);
  const key = anchor ? Number(anchor[1]) : fnv1a(text);
  const next = rng(key ^ 0x5eed);
  const centre = centres[key % CLUSTERS];
  const z = Float64Array.from(centre, (c) => c + SPREAD * gaussian(next));
  const own = rng(fnv1a(text) ^ 0x0dd);
  if (anchor) for (let j = 0; j < LATENT; j++) z[j] += NUDGE * gaussian(own);
  const b = basis(dimensions);
  const out = new Float32Array(dimensions);
  for (let j = 0; j < LATENT; j++) {
    const zj = z[j];
    const row = j * dimensions;
    for (let i = 0; i < dimensions; i++) out[i] += zj * b[row + i];
  }
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    out[i] += NOISE * Math.sqrt(LATENT) * gaussian(own);
    norm += out[i] * out[i];
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dimensions; i++) out[i] /= norm;
  return out;
}

// pgvector's text form, 6 decimals (the column stores float4 anyway).
export const vectorLiteral = (v) => `[${Array.from(v, (x) => x.toFixed(6)).join(',')}]`;

import { createHash, timingSafeEqual } from 'node:crypto';

export interface BasicCredentials {
  user: string;
  password: string;
}

// `Authorization: Basic base64(user:password)`; null when absent or malformed.
export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

// Constant time: digests have equal lengths, so timingSafeEqual applies and neither the length nor
// the content of a secret shows in the timing. Both fields are always compared.
export function areValidCredentials(given: BasicCredentials | null, expected: BasicCredentials): boolean {
  const candidate = given ?? { user: '', password: '' };
  const isUserValid = timingSafeEqual(digest(candidate.user), digest(expected.user));
  const isPasswordValid = timingSafeEqual(digest(candidate.password), digest(expected.password));
  return given !== null && isUserValid && isPasswordValid;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

import { areValidCredentials, parseBasicAuth } from './basic-auth';

const header = (raw: string) => `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;
const expected = { user: 'ops', password: 's3cret:with colon' };

describe(parseBasicAuth.name, () => {
  it('reads user and password, the password may contain colons', () => {
    expect(parseBasicAuth(header('ops:s3cret:with colon'))).toEqual(expected);
  });

  it('accepts the scheme in any case and an empty password', () => {
    expect(parseBasicAuth(`basic ${Buffer.from('ops:').toString('base64')}`)).toEqual({ user: 'ops', password: '' });
  });

  it('decodes UTF-8', () => {
    expect(parseBasicAuth(header('jürgen:pässwörd'))).toEqual({ user: 'jürgen', password: 'pässwörd' });
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', 'Bearer abc.def.ghi'],
    ['no colon', header('opsonly')],
    ['not base64', 'Basic !!!'],
    ['no credentials', 'Basic '],
  ])('gives null for %s', (_label, value) => {
    expect(parseBasicAuth(value)).toBeNull();
  });
});

describe(areValidCredentials.name, () => {
  it('accepts the exact pair', () => {
    expect(areValidCredentials({ ...expected }, expected)).toBe(true);
  });

  it.each([
    ['a wrong password', { user: 'ops', password: 's3cret' }],
    ['a wrong user', { user: 'Ops', password: expected.password }],
    ['a longer password', { user: 'ops', password: `${expected.password}x` }],
    ['empty fields', { user: '', password: '' }],
    ['no credentials', null],
  ])('refuses %s', (_label, given) => {
    expect(areValidCredentials(given, expected)).toBe(false);
  });
});

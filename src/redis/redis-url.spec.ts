import { redisOptionsFromUrl } from './redis-url';

describe(redisOptionsFromUrl.name, () => {
  it('reads host, port and database index', () => {
    expect(redisOptionsFromUrl('redis://cache.internal:6380/3')).toEqual({ host: 'cache.internal', port: 6380, db: 3 });
  });

  it('defaults the port to 6379 and the database to 0', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1')).toEqual({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(redisOptionsFromUrl('redis://127.0.0.1/')).toEqual({ host: '127.0.0.1', port: 6379, db: 0 });
  });

  it('decodes credentials', () => {
    expect(redisOptionsFromUrl('redis://ops:p%40ss%3Aword@redis:6379/1')).toEqual({
      host: 'redis',
      port: 6379,
      db: 1,
      username: 'ops',
      password: 'p@ss:word',
    });
  });

  it('takes a password without a user name', () => {
    expect(redisOptionsFromUrl('redis://:secret@redis')).toMatchObject({ password: 'secret' });
    expect(redisOptionsFromUrl('redis://:secret@redis')).not.toHaveProperty('username');
  });

  it('turns on TLS for rediss://', () => {
    expect(redisOptionsFromUrl('rediss://redis.example.com:6380')).toEqual({ host: 'redis.example.com', port: 6380, db: 0, tls: {} });
  });

  it('unwraps an IPv6 host', () => {
    expect(redisOptionsFromUrl('redis://[::1]:6379/2')).toMatchObject({ host: '::1', db: 2 });
  });

  it.each(['redis://host/abc', 'redis://host/-1', 'http://host'])('refuses %s', (url) => {
    expect(() => redisOptionsFromUrl(url)).toThrow();
  });
});

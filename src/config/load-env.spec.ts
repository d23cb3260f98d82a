import { loadEnvOrExit } from './load-env';

describe(loadEnvOrExit.name, () => {
  it('prints one line naming the bad variable and exits with 1', () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => loadEnvOrExit({ NODE_ENV: 'production', JWT_SECRET: undefined })).toThrow('exit 1');
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(stderr.mock.calls[0][0]).toBe('Invalid environment variable JWT_SECRET: required when NODE_ENV=production\n');
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  });
});

// e2e tests boot apps, child processes and slow fake upstreams.
jest.setTimeout(60_000);

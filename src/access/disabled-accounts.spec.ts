import { DisabledAccounts } from './disabled-accounts';

// A promise settled by the test: a database read still running.
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ([resolve, reject] = [res, rej]));
  return { promise, resolve, reject };
}

describe(DisabledAccounts.name, () => {
  it('applies announcements and replaces the set on a load', async () => {
    const accounts = new DisabledAccounts();
    accounts.apply({ userId: 'a', disabled: true });
    accounts.apply({ userId: 'b', disabled: true });
    accounts.apply({ userId: 'b', disabled: false });
    expect([accounts.has('a'), accounts.has('b')]).toEqual([true, false]);
    await accounts.load(() => Promise.resolve(['c']));
    expect([accounts.has('a'), accounts.has('c')]).toEqual([false, true]);
  });

  it('keeps what was announced while a load read the database', async () => {
    const accounts = new DisabledAccounts();
    const read = deferred<string[]>();
    const loading = accounts.load(() => read.promise);
    // Committed after the read began: the read does not see these two changes.
    accounts.apply({ userId: 'late', disabled: true });
    accounts.apply({ userId: 'old', disabled: false });
    read.resolve(['old', 'other']);
    await loading;
    expect(['late', 'old', 'other'].map((id) => accounts.has(id))).toEqual([true, false, true]);
    // Announcements after the load are not replayed by a later one.
    accounts.apply({ userId: 'late', disabled: false });
    await accounts.load(() => Promise.resolve([]));
    expect(accounts.has('late')).toBe(false);
  });

  it('keeps the last known set when a load fails', async () => {
    const accounts = new DisabledAccounts();
    await accounts.load(() => Promise.resolve(['a']));
    await expect(accounts.load(() => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    expect(accounts.has('a')).toBe(true);
    accounts.apply({ userId: 'b', disabled: true });
    expect(accounts.has('b')).toBe(true);
  });
});

import type { AccountAccessMessage } from './access.constants';

// The set of disabled account ids, replaced by a full load from the database now and then and
// changed by single announcements in between. A load reads the database while announcements may
// still arrive; those are applied again on top of the loaded set, so none is lost to a load that
// read the database before the change was committed.
export class DisabledAccounts {
  private ids = new Set<string>();
  private readonly pendingLoads = new Set<AccountAccessMessage[]>();

  has(userId: string): boolean {
    return this.ids.has(userId);
  }

  apply(message: AccountAccessMessage): void {
    for (const arrived of this.pendingLoads) arrived.push(message);
    if (message.disabled) this.ids.add(message.userId);
    else this.ids.delete(message.userId);
  }

  // Replaces the set with what `read` returns, keeping what was announced while it ran. A failed
  // read keeps the set as it is (and rejects).
  async load(read: () => Promise<string[]>): Promise<void> {
    const arrived: AccountAccessMessage[] = [];
    this.pendingLoads.add(arrived);
    try {
      const loaded = new Set(await read());
      this.pendingLoads.delete(arrived);
      this.ids = loaded;
      for (const message of arrived) this.apply(message);
    } finally {
      this.pendingLoads.delete(arrived);
    }
  }
}

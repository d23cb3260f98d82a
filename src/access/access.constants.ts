// The Redis channel that tells every instance an account was disabled or enabled again.
export const accountAccessChannel = (redisPrefix: string) => `${redisPrefix}:account-access`;

export interface AccountAccessMessage {
  userId: string;
  disabled: boolean;
}

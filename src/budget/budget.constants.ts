// How long the holds on a user's token budget outlive the last reservation. Longer than any AI call
// (an upstream timeout times its retries, a long stream), so a live call never loses its hold; the
// holds of a call whose instance died (SIGKILL, OOM) are dropped once this passes with no new one.
export const TOKEN_HOLD_TTL_MS = 15 * 60_000;

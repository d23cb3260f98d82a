import { fitHistory } from './context-window';

const history = (...tokens: number[]) => tokens.map((n, i) => ({ message: `m${i}`, tokens: n }));
const fit = (tokens: number[], promptBudget: number, questionTokens = 10, systemTokens: number | null = null) =>
  fitHistory({ history: history(...tokens), systemTokens, questionTokens, promptBudget, modelId: 'tiny' });

describe(fitHistory.name, () => {
  // Framing: 3 for the prompt, 4 per message. The question alone: 3 + 4 + 10 = 17.
  it('keeps the whole history when it fits', () => {
    expect(fit([20, 30], 17 + 24 + 34)).toEqual(['m0', 'm1']);
  });

  it('cuts the oldest messages first, never leaving a gap', () => {
    expect(fit([20, 30], 17 + 34)).toEqual(['m1']);
    expect(fit([5, 30], 17 + 34)).toEqual(['m1']);
    expect(fit([20, 30], 17 + 33)).toEqual([]);
  });

  it('always keeps the system prompt and counts it', () => {
    expect(fit([20, 30], 17 + 14 + 34, 10, 10)).toEqual(['m1']);
  });

  it('refuses a question that does not fit with the system prompt, naming the model', () => {
    expect(() => fit([], 16)).toThrow('message is too long for model tiny: 17 tokens with the system prompt, 16 left by its context window after maxTokens');
    expect(() => fit([], 30, 10, 20)).toThrow(/41 tokens/);
  });
});

import fc from 'fast-check';
import { estimatePromptTokens, estimateTextTokens, promptTokenCeiling, textTokenCeiling } from './token-estimator';

describe('token ceilings', () => {
  const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ maxLength: 300 }));

  it('never count fewer tokens than the tokenizer, whatever the text', () => {
    fc.assert(
      fc.property(text, (t) => textTokenCeiling(t) >= estimateTextTokens(t)),
      { numRuns: 300 },
    );
  });

  it('bound a whole prompt from above', () => {
    const message = fc.record({ role: fc.constantFrom('system' as const, 'user' as const, 'assistant' as const), content: text });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), (messages) => promptTokenCeiling(messages) >= estimatePromptTokens(messages)),
      { numRuns: 200 },
    );
  });
});

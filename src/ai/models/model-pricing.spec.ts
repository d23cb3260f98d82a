import { costOf } from './model-pricing';

describe(costOf.name, () => {
  it('prices prompt and completion tokens per million at the model’s rates', () => {
    expect(costOf({ inputPerMTok: 3, outputPerMTok: 15 }, 1000, 500)).toBe(0.0105);
    expect(costOf({ inputPerMTok: 0.15, outputPerMTok: 0.6 }, 12, 9)).toBe(0.0000072);
    expect(costOf({ inputPerMTok: 2.5, outputPerMTok: 10 }, 0, 0)).toBe(0);
  });

  it('has no cost for a model without a price', () => {
    expect(costOf(null, 1000, 500)).toBeNull();
  });
});

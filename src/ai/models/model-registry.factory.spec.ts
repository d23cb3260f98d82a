import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModelRegistry, RegistrySettings } from './model-registry.factory';

const dir = mkdtempSync(join(tmpdir(), 'models-file-'));
let files = 0;
const file = (name: string, text: string) => {
  const path = join(dir, `${files++}-${name}`);
  writeFileSync(path, text);
  return path;
};
const settings = (overrides: Partial<RegistrySettings> = {}): RegistrySettings => ({
  defaultChatModel: 'gpt-4',
  defaultEmbeddingModel: 'text-embedding-3-small',
  providersOn: { openai: true, anthropic: false, gemini: false },
  ...overrides,
});
const ids = (s: RegistrySettings) => buildModelRegistry(s).map((m) => m.id);

describe(buildModelRegistry.name, () => {
  describe('without a file', () => {
    it("holds the defaults and OpenAI's well-known chat and embedding models", () => {
      expect(ids(settings())).toEqual([
        'gpt-4',
        'text-embedding-3-small',
        'gpt-4o',
        'gpt-4o-mini',
        'gpt-4.1',
        'gpt-5',
        'gpt-3.5-turbo',
        'text-embedding-3-large',
        'text-embedding-ada-002',
      ]);
    });

    it('takes context windows and prices from the catalogue', () => {
      const gpt4o = buildModelRegistry(settings()).find((m) => m.id === 'gpt-4o');
      expect(gpt4o).toEqual({
        id: 'gpt-4o',
        provider: 'openai',
        upstreamModel: 'gpt-4o',
        contextWindow: 128000,
        maxOutputTokens: 16384,
        pricing: { inputPerMTok: 2.5, outputPerMTok: 10 },
        capabilities: ['chat'],
        fallbacks: [],
      });
      const embedding = buildModelRegistry(settings()).find((m) => m.id === 'text-embedding-3-small');
      expect(embedding).toMatchObject({ capabilities: ['embeddings'] });
    });

    it('adds a default model the catalogue does not know, with nothing guessed', () => {
      const registry = buildModelRegistry(settings({ defaultChatModel: 'llama3.2' }));
      expect(registry[0]).toEqual({
        id: 'llama3.2',
        provider: 'openai',
        upstreamModel: 'llama3.2',
        contextWindow: null,
        maxOutputTokens: null,
        pricing: null,
        capabilities: ['chat'],
        fallbacks: [],
      });
    });

    it('offers Claude and Gemini models only while their provider is on', () => {
      expect(ids(settings()).some((id) => id.startsWith('claude') || id.startsWith('gemini'))).toBe(false);
      const all = ids(settings({ providersOn: { openai: true, anthropic: true, gemini: true } }));
      expect(all).toEqual(expect.arrayContaining(['claude-sonnet-4-20250514', 'gemini-2.5-flash']));
      const claude = buildModelRegistry(settings({ providersOn: { openai: true, anthropic: true, gemini: false } })).find((m) => m.id === 'claude-sonnet-4-20250514');
      expect(claude).toMatchObject({ provider: 'anthropic', contextWindow: 200000, pricing: { inputPerMTok: 3, outputPerMTok: 15 } });
    });
  });

  describe('with AI_MODELS_FILE', () => {
    const models = [
      { id: 'fast', provider: 'openai', upstreamModel: 'gpt-4o-mini', fallbacks: ['claude'] },
      {
        id: 'claude',
        provider: 'anthropic',
        upstreamModel: 'claude-sonnet-4-5',
        contextWindow: 200000,
        maxOutputTokens: 8192,
        pricing: { inputPerMTok: 3, outputPerMTok: 15 },
      },
      { id: 'local', provider: 'openai', upstreamModel: 'llama3.2', pricing: null },
      { id: 'embed', provider: 'openai', upstreamModel: 'text-embedding-3-small', capabilities: ['embeddings'] },
    ];
    const fromFile = { defaultChatModel: 'fast', defaultEmbeddingModel: 'embed' };

    it('holds exactly the file’s models, completed from the catalogue where a field is left out', () => {
      const registry = buildModelRegistry(settings({ ...fromFile, modelsFile: file('models.json', JSON.stringify({ models })) }));
      expect(registry.map((m) => m.id)).toEqual(['fast', 'claude', 'local', 'embed']);
      expect(registry[0]).toEqual({
        id: 'fast',
        provider: 'openai',
        upstreamModel: 'gpt-4o-mini',
        contextWindow: 128000,
        maxOutputTokens: 16384,
        pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
        capabilities: ['chat'],
        fallbacks: ['claude'],
      });
      expect(registry[1]).toMatchObject({ contextWindow: 200000, maxOutputTokens: 8192, pricing: { inputPerMTok: 3, outputPerMTok: 15 } });
      expect(registry[2]).toMatchObject({ pricing: null, contextWindow: null });
    });

    it('reads YAML the same way', () => {
      const yaml = `models:\n  - id: fast\n    provider: openai\n    upstreamModel: gpt-4o-mini\n  - id: embed\n    provider: openai\n    capabilities: [embeddings]\n    pricing: null\n`;
      const registry = buildModelRegistry(settings({ ...fromFile, modelsFile: file('models.yaml', yaml) }));
      expect(registry.map((m) => [m.id, m.upstreamModel, m.capabilities, m.pricing])).toEqual([
        ['fast', 'gpt-4o-mini', ['chat'], { inputPerMTok: 0.15, outputPerMTok: 0.6 }],
        ['embed', 'embed', ['embeddings'], null],
      ]);
    });

    it.each([
      [
        'a provider that does not exist',
        [{ id: 'x', provider: 'mistral' }],
        /AI_MODELS_FILE: .*models\.0\.provider: provider must be one of the following values: openai, anthropic, gemini$/,
      ],
      [
        'a negative price',
        [{ id: 'x', provider: 'openai', pricing: { inputPerMTok: -1, outputPerMTok: 1 } }],
        /models\.0\.pricing\.inputPerMTok: inputPerMTok must not be less than 0$/,
      ],
      ['an unknown field', [{ id: 'x', provider: 'openai', price: 3 }], /models\.0\.price: property price should not exist$/],
      [
        'an id listed twice',
        [
          { id: 'fast', provider: 'openai' },
          { id: 'fast', provider: 'anthropic' },
        ],
        /model fast is listed twice$/,
      ],
      ['a fallback the file lacks', [{ id: 'fast', provider: 'openai', fallbacks: ['gone'] }], /model fast: fallback gone is not in the registry$/],
      [
        'a fallback without the capability',
        [
          { id: 'fast', provider: 'openai', fallbacks: ['embed'] },
          { id: 'embed', provider: 'openai', capabilities: ['embeddings'] },
        ],
        /fallback embed lacks one of its capabilities$/,
      ],
    ])('refuses %s, in one line naming AI_MODELS_FILE', (_label, bad, message) => {
      expect(() => buildModelRegistry(settings({ ...fromFile, modelsFile: file('bad.json', JSON.stringify({ models: bad })) }))).toThrow(message);
    });

    it('refuses a file that is not there or not JSON', () => {
      expect(() => buildModelRegistry(settings({ modelsFile: join(dir, 'missing.json') }))).toThrow(
        /^Invalid environment variable AI_MODELS_FILE: cannot read .*missing\.json/,
      );
      expect(() => buildModelRegistry(settings({ modelsFile: file('broken.json', '{ "models": [') }))).toThrow(
        /^Invalid environment variable AI_MODELS_FILE: cannot read/,
      );
    });

    it('refuses default models the file does not list, naming the setting', () => {
      const path = file('models.json', JSON.stringify({ models }));
      expect(() => buildModelRegistry(settings({ modelsFile: path, defaultEmbeddingModel: 'embed' }))).toThrow(
        'Invalid environment variable OPENAI_MODEL: gpt-4 is not in the registry with the chat capability',
      );
      expect(() => buildModelRegistry(settings({ modelsFile: path, defaultChatModel: 'fast', defaultEmbeddingModel: 'fast' }))).toThrow(
        'Invalid environment variable OPENAI_EMBEDDING_MODEL: fast is not in the registry with the embeddings capability',
      );
    });
  });
});

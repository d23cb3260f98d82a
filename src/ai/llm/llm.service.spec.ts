import type { ModelRegistry } from '../models/model-registry.service';
import type { RegisteredModel } from '../models/model.types';
import type { LlmCallRecorder } from './llm-call';
import { LlmService } from './llm.service';
import type { CompletionEvent } from './llm.types';
import type { AnthropicProvider } from './providers/anthropic.provider';
import type { GeminiProvider } from './providers/gemini.provider';
import type { OpenAiProvider } from './providers/openai.provider';

const model: RegisteredModel = {
  id: 'gpt-test',
  provider: 'openai',
  upstreamModel: 'gpt-test',
  contextWindow: null,
  maxOutputTokens: null,
  pricing: null,
  capabilities: ['chat'],
  fallbacks: [],
};

describe(LlmService.name, () => {
  it('closes the provider call when its caller stops reading mid-answer', async () => {
    let isClosed = false;
    async function* providerCall(): AsyncGenerator<CompletionEvent> {
      try {
        yield { type: 'delta', content: 'a' };
        await Promise.resolve();
        yield { type: 'delta', content: 'b' };
      } finally {
        isClosed = true;
      }
    }
    const openai = { complete: providerCall } as unknown as OpenAiProvider;
    const metrics = { countCost: jest.fn() };
    const service = new LlmService(openai, {} as AnthropicProvider, {} as GeminiProvider, {} as ModelRegistry, { metrics } as unknown as LlmCallRecorder);
    const call = {
      messages: [],
      maxTokens: 10,
      temperature: 0,
      isStreamed: true,
      signal: new AbortController().signal,
      context: { transport: 'ws' as const, userId: 'u', requestId: 'r' },
    };

    for await (const event of service.complete(model, call)) {
      expect(event).toEqual({ type: 'delta', content: 'a' });
      break;
    }

    expect(isClosed).toBe(true);
  });
});

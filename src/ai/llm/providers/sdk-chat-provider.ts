import { fetch as leanFetch } from '@whatwg-node/node-fetch';
import type { ProviderKind } from '../../models/model.types';
import type { CallContext, CompletionEvent } from '../llm.types';
import type { ChatProvider, ChatRequest, ProviderCall } from './chat-provider';

// The fetch the SDKs call the upstream with. Node's own (undici's WHATWG fetch) spent ~1.4 ms of CPU
// per request here against ~0.8 ms for this one, which is built on node:http; on a chat turn that is
// the largest single cost after the framework's. Same interface: signal, streamed body, errors.
export const upstreamFetch = leanFetch as unknown as typeof fetch;

// What the three adapters share: an SDK client that exists only while the provider is on, the
// timeout and the secrets to cut out of upstream messages; each adapter writes the whole and the
// streamed call for its SDK.
export abstract class SdkChatProvider<Client> implements ChatProvider {
  abstract readonly kind: ProviderKind;

  protected constructor(
    private readonly client: Client | null,
    protected readonly timeoutMs: number,
    protected readonly secrets: string[],
  ) {}

  get isConfigured(): boolean {
    return this.client !== null;
  }

  complete(request: ChatRequest, { isStreamed, signal, context }: ProviderCall): AsyncGenerator<CompletionEvent> {
    return isStreamed ? this.stream(request, context, signal) : this.whole(request, context, signal);
  }

  protected abstract whole(request: ChatRequest, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent>;

  protected abstract stream(request: ChatRequest, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent>;

  // The registry answers 503 for a model whose provider is off, so a call never gets here without a client.
  protected sdk(): Client {
    if (!this.client) throw new Error(`the ${this.kind} provider was called while it is off`);
    return this.client;
  }
}

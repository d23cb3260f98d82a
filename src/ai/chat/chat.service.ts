import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { mapChatResponse } from './chat.mapper';
import { ChatTurnRunner } from './chat-turn.runner';
import { TurnRequest } from './chat-turn.types';
import { ChatRequestDto } from './dto/chat-request.dto';
import { ChatResponseDto } from './dto/chat-response.dto';
import { RegenerateRequestDto } from './dto/regenerate-request.dto';

// A whole chat turn for REST and jobs: the answer once it is stored.
@Injectable()
export class ChatService {
  constructor(private readonly turns: ChatTurnRunner) {}

  async sendMessage(userId: string, input: ChatRequestDto, request: Omit<TurnRequest, 'userId' | 'input' | 'isStreamed' | 'signal'>): Promise<ChatResponseDto> {
    for await (const event of this.turns.run({ ...request, userId, input, isStreamed: false })) {
      if (event.type === 'end') return mapChatResponse(event.message);
    }
    // A turn without a stop signal always ends with `end` or throws.
    throw new AppError('LLM_UNAVAILABLE', 'The AI call ended without an answer');
  }

  // A new answer to the question of `messageId` (an assistant message), stored beside it.
  regenerate(
    userId: string,
    { conversationId, messageId }: { conversationId: string; messageId: string },
    options: RegenerateRequestDto,
    request: Omit<TurnRequest, 'userId' | 'input' | 'isStreamed' | 'signal' | 'regenerate'>,
  ): Promise<ChatResponseDto> {
    const { model, maxTokens, temperature } = options;
    return this.sendMessage(userId, { conversationId, model, maxTokens, temperature }, { ...request, regenerate: { messageId } });
  }
}

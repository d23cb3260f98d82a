import { Allow, IsBoolean, IsOptional } from 'class-validator';
import { ChatRequestDto } from '../../chat/dto/chat-request.dto';

// `chat:start` takes the POST /chat body. Clients written from the published examples also send
// `userId`: it is accepted and ignored, because the user is always the one of the socket's token.
export class StreamChatDto extends ChatRequestDto {
  @Allow()
  userId?: unknown;

  // The stream goes on when the socket disconnects, and can be resumed (chat:resume) on any instance.
  @IsOptional()
  @IsBoolean()
  resumable?: boolean;
}

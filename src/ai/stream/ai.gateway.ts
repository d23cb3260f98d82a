import { Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { DefaultEventsMap, Namespace, Socket } from 'socket.io';
import type { AuthUser } from '../../auth/auth-user';
import { TokenService } from '../../auth/token.service';
import { MetricsService } from '../../metrics/metrics.service';
import { AI_NAMESPACE, userRoom } from '../../realtime/realtime.constants';
import { CHAT_EVENTS } from './chat-stream.constants';
import { ChatStreamService } from './chat-stream.service';

// The handshake middleware sets `data.user` before any handler runs.
type AuthedSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, { user: AuthUser }>;

// Transport only: authenticate the handshake, route events to ChatStreamService.
// CORS and message limits are set by RedisIoAdapter from config.
@WebSocketGateway({ namespace: AI_NAMESPACE })
export class AiGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(AiGateway.name);

  @WebSocketServer()
  readonly server: Namespace<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, { user: AuthUser }>;

  constructor(
    private readonly tokens: TokenService,
    private readonly streams: ChatStreamService,
    private readonly metrics: MetricsService,
  ) {}

  // Runs before the connection is accepted: a socket without a valid access token never reaches a handler.
  afterInit(namespace: Namespace<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, { user: AuthUser }>): void {
    namespace.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      if (typeof token !== 'string' || !token) return next(new Error('Unauthorized'));
      this.tokens
        .verifyAccessToken(token)
        .then((user) => {
          socket.data.user = user;
          next();
        })
        .catch(() => next(new Error('Unauthorized')));
    });
  }

  handleConnection(socket: AuthedSocket): void {
    // One room per user: reaches all of a user's tabs on every instance through the Redis adapter.
    void socket.join(userRoom(socket.data.user.id));
    this.metrics.socketConnected();
    this.logger.debug({ msg: 'socket connected', socketId: socket.id, userId: socket.data.user.id });
  }

  handleDisconnect(socket: AuthedSocket): void {
    this.metrics.socketDisconnected();
    this.streams.stop(socket.id, 'disconnect');
  }

  @SubscribeMessage(CHAT_EVENTS.start)
  startChat(@ConnectedSocket() socket: AuthedSocket, @MessageBody() payload: unknown): void {
    void this.streams.start(socket, socket.data.user.id, payload);
  }

  @SubscribeMessage(CHAT_EVENTS.regenerate)
  regenerate(@ConnectedSocket() socket: AuthedSocket, @MessageBody() payload: unknown): void {
    void this.streams.regenerate(socket, socket.data.user.id, payload);
  }

  // Without a payload: the socket's own stream; with `{ streamId }`: any stream of the user, on any instance.
  @SubscribeMessage(CHAT_EVENTS.stop)
  stopChat(@ConnectedSocket() socket: AuthedSocket, @MessageBody() payload: unknown): void {
    void this.streams.stopFromClient(socket, socket.data.user.id, payload);
  }

  @SubscribeMessage(CHAT_EVENTS.resume)
  resumeChat(@ConnectedSocket() socket: AuthedSocket, @MessageBody() payload: unknown): void {
    void this.streams.resume(socket, socket.data.user.id, payload);
  }
}

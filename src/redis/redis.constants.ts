export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

// The Redis channel prefix of Socket.IO's adapter, shared with the emitter of processes that have
// no Socket.IO server (a worker), so that both reach the same rooms.
export const socketIoKey = (redisPrefix: string) => `${redisPrefix}:socket.io`;

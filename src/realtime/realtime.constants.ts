// The Socket.IO namespace of the API, and the room that holds every socket of one user on every
// instance (the gateway joins it at connection).
export const AI_NAMESPACE = '/ai';

export const userRoom = (userId: string) => `user:${userId}`;

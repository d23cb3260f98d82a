// The caller as the access token describes it; attached to requests and sockets.
export interface AuthUser {
  id: string;
  email: string;
}

export interface AccessTokenPayload {
  sub: string;
  email: string;
  typ: 'access';
}

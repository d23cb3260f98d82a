// The service's own REST API, with the session kept in sessionStorage (this tab only). A 401 tries
// one refresh; when that fails too (signed out elsewhere, account disabled) the session ends.
const API = '/api/v1';
const STORE = 'ai-dashboard-session';

export interface Session {
  accessToken: string;
  refreshToken: string;
}

export class SessionEnded extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(STORE);
  return raw ? (JSON.parse(raw) as Session) : null;
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(STORE, JSON.stringify(session));
  else sessionStorage.removeItem(STORE);
}

async function send(path: string, init: RequestInit, token?: string): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.body) headers.set('content-type', 'application/json');
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(`${API}${path}`, { ...init, headers });
}

async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => ({}))) as { message?: string | string[] };
  const message = Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? response.statusText);
  return new ApiError(response.status, message);
}

export async function signIn(email: string, password: string): Promise<Session> {
  const response = await send('/auth/login', { method: 'POST', body: JSON.stringify({ email, password }) });
  if (!response.ok) throw await errorOf(response);
  const { accessToken, refreshToken } = (await response.json()) as Session;
  const session = { accessToken, refreshToken };
  saveSession(session);
  return session;
}

async function refresh(session: Session): Promise<Session> {
  const response = await send('/auth/refresh', { method: 'POST', body: JSON.stringify({ refreshToken: session.refreshToken }) });
  if (!response.ok) throw new SessionEnded((await errorOf(response)).message);
  const { accessToken, refreshToken } = (await response.json()) as Session;
  const next = { accessToken, refreshToken };
  saveSession(next);
  return next;
}

// Concurrent calls that all meet an expired token share one refresh (refresh tokens are single-use).
let refreshing: Promise<Session> | null = null;

export async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  let session = loadSession();
  if (!session) throw new SessionEnded('Not signed in');
  let response = await send(path, init, session.accessToken);
  if (response.status === 401) {
    refreshing ??= refresh(session).finally(() => (refreshing = null));
    session = await refreshing;
    response = await send(path, init, session.accessToken);
    if (response.status === 401) throw new SessionEnded((await errorOf(response)).message);
  }
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

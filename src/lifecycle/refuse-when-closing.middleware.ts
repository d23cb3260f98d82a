import type { NextFunction, Request, Response } from 'express';
import { ShutdownState } from './shutdown-state.service';

// Stop taking HTTP work once shutdown began; the load balancer retries elsewhere.
export function refuseWhenClosing(state: ShutdownState) {
  return (_req: Request, res: Response, next: NextFunction) => {
    if (!state.isShuttingDown) return next();
    res.set('Connection', 'close');
    res.status(503).json({ statusCode: 503, message: 'Server is shutting down', error: 'Service Unavailable' });
  };
}

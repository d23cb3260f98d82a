import type { NextFunction, Request, Response } from 'express';
import { areValidCredentials, BasicCredentials, parseBasicAuth } from './basic-auth';

// Express middleware in front of the dashboard (it is not a Nest route, so the JWT guard never
// sees it). A browser shows its login prompt on the 401 with the challenge header.
export function basicAuthMiddleware(expected: BasicCredentials, realm: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (areValidCredentials(parseBasicAuth(req.headers.authorization), expected)) return next();
    res.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    res.status(401).json({ statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' });
  };
}

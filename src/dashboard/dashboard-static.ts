import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_ROUTE = '/dashboard';

// Where `npm run build` writes the page (web/ built by Vite), from src/ and dist/ alike.
export const DASHBOARD_DIR = join(__dirname, '..', '..', 'web', 'dist');

// GET /dashboard: the usage dashboard, static files served by this process (no second server).
// Its script and styles are files of its own (under /dashboard/assets/), so helmet's default CSP
// ('self') lets it run. The page answers at /dashboard itself, not through a redirect to /dashboard/.
export function serveDashboard(app: NestExpressApplication, dir = DASHBOARD_DIR): void {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    app.use(DASHBOARD_ROUTE, (_req: Request, res: Response) => {
      res.status(503).type('text/plain').send('The dashboard is not built: run `npm run build`.');
    });
    return;
  }
  app.use(DASHBOARD_ROUTE, (req: Request, res: Response, next: () => void) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && (req.path === '/' || req.path === '/index.html')) {
      // Always the current build: the page names its hashed assets.
      res.setHeader('Cache-Control', 'no-cache');
      return res.sendFile(index);
    }
    next();
  });
  app.useStaticAssets(dir, { prefix: DASHBOARD_ROUTE, index: false, redirect: false, immutable: true, maxAge: '1y' });
}

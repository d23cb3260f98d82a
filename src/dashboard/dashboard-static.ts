import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Response } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_ROUTE = '/dashboard';

// Where `npm run build` writes the page (web/ built by Vite), from src/ and dist/ alike.
export const DASHBOARD_DIR = join(__dirname, '..', '..', 'web', 'dist');

// GET /dashboard: the usage dashboard, static files served by this process (no second server).
// Its script and styles are files of its own, so helmet's default CSP ('self') lets it run.
export function serveDashboard(app: NestExpressApplication, dir = DASHBOARD_DIR): void {
  if (existsSync(join(dir, 'index.html'))) {
    app.useStaticAssets(dir, { prefix: DASHBOARD_ROUTE, index: 'index.html' });
    return;
  }
  app.use(DASHBOARD_ROUTE, (_req: unknown, res: Response) => {
    res.status(503).type('text/plain').send('The dashboard is not built: run `npm run build`.');
  });
}

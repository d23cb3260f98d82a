// Which build of the service the run measures: dist/, rebuilt first when src/ is newer, then copied
// to a private snapshot, because other people rebuild dist/ in this working tree and `nest build`
// empties it first. `--dist <dir>` measures another build as it is.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { log } from './children.mjs';
import { ROOT } from './options.mjs';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function buildIfStale({ dist, noBuild }) {
  if (dist !== 'dist') return `not built: --dist ${dist}`;
  const built = existsSync('dist/main.js') ? statSync('dist/main.js').mtimeMs : 0;
  const sources = Math.max(
    newestMtime('src'),
    ...['prisma/schema.prisma', 'tsconfig.json', 'nest-cli.json', 'package.json'].filter(existsSync).map((f) => statSync(f).mtimeMs),
  );
  if (noBuild) {
    if (!built) throw new Error('--no-build but dist/main.js is missing');
    return built >= sources ? 'up to date' : 'stale, kept (--no-build)';
  }
  if (built >= sources) return 'up to date';
  log('dist/ is older than src/: npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (someone may be mid-edit in src/; retry, or use --no-build):\n${(result.stdout + result.stderr).slice(-3000)}`);
  }
  return 'rebuilt';
}

// Returns the directory the service instances run from.
export function snapshotDist(dist) {
  if (dist !== 'dist') return path.resolve(ROOT, dist);
  // Under node_modules/ so that the copy still resolves the project's packages.
  const snapshot = path.join(ROOT, 'node_modules', '.cache', 'ai-bench-dist', String(process.pid), 'dist');
  rmSync(path.dirname(snapshot), { recursive: true, force: true });
  cpSync('dist', snapshot, { recursive: true });
  process.on('exit', () => rmSync(path.dirname(snapshot), { recursive: true, force: true }));
  return snapshot;
}

// Starting the fake upstream and service instances, each a child process that exits with the bench.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { track } from './children.mjs';
import { BENCH, ROOT } from './options.mjs';

export const PRELOAD = path.join(BENCH, 'lib', 'child-preload.cjs');

export async function startFake({ stream, chatDelayMs }) {
  const child = spawn(
    process.execPath,
    [
      '-r',
      PRELOAD,
      path.join(BENCH, 'fake-upstream.mjs'),
      '--ttft-ms',
      stream.ttftMs,
      '--chunks',
      stream.chunks,
      '--cadence-ms',
      stream.cadenceMs,
      '--chat-delay-ms',
      chatDelayMs,
    ].map(String),
    { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH } },
  );
  track(child);
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`fake upstream exited with ${code}`)));
  });
  const { url } = JSON.parse(line);
  return { child, pid: child.pid, url, origin: url.replace(/\/v1$/, '') };
}

export async function setFakeProfile(fake, profile) {
  const res = await fetch(`${fake.origin}/_bench/config`, { method: 'POST', body: JSON.stringify(profile) });
  return res.json();
}

// The service's environment: production mode, quiet logs, limits out of the way, nothing
// inherited from the caller's shell but PATH and HOME.
export function serviceEnv(ctx, port, overrides = {}) {
  const { opts } = ctx;
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/root',
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: `${opts.redisBase}/${ctx.redisIndex}`,
    REDIS_PREFIX: 'ai-bench',
    JWT_SECRET: opts.jwtSecret,
    JWT_EXPIRES_IN: '3h',
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    OPENAI_API_KEY: 'sk-bench-0123456789',
    OPENAI_MODEL: opts.model,
    OPENAI_MAX_RETRIES: '0',
    OPENAI_TIMEOUT_MS: '120000',
    AI_RATE_LIMIT: '1000000000',
    AUTH_RATE_LIMIT: '1000000000',
    USER_TOKEN_LIMIT: String(opts.tokenLimit),
    SHUTDOWN_GRACE_MS: '3000',
    ...overrides,
  };
}

// Starts `node <dist>/main` and resolves once GET /api/v1/health answers 200.
export async function startService(ctx, name, { port, fakeUrl, env = {}, nodeArgs = [] }) {
  const logFile = path.join(ctx.opts.work, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, '-r', PRELOAD, path.join(ctx.dist, 'main')], {
    cwd: ROOT,
    env: serviceEnv(ctx, port, { OPENAI_BASE_URL: fakeUrl, ...env }),
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  track(child);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  let exited = null;
  child.once('exit', (code, signal) => (exited = `${code ?? signal}`));
  for (;;) {
    if (exited !== null) throw new Error(`service ${name} exited (${exited}) during start; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      const res = await fetch(`${base}/api/v1/health`);
      if (res.status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`service ${name} not healthy within 60 s; see ${logFile}`);
    await sleep(100);
  }
  return { child, pid: child.pid, base, logFile, name };
}

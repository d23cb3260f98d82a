// Figure 13's peer gateway: Portkey's open-source AI gateway (@portkey-ai/gateway), a stateless
// relay on Hono. It has a package.json and lock file of its own in bench/peer/, so the service's
// `npm ci` never installs it; the bench runs `npm ci --prefix bench/peer` when bench/peer/node_modules
// is missing or was installed from another lock file, and starts it as one child process that exits
// with the bench.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { log, track } from './children.mjs';
import { createDirectClient } from './clients.mjs';
import { BENCH } from './options.mjs';
import { PRELOAD } from './services.mjs';

export const PEER_DIR = path.join(BENCH, 'peer');
const MODULES = path.join(PEER_DIR, 'node_modules');
const ENTRY = path.join(MODULES, '@portkey-ai', 'gateway', 'build', 'start-server.js');
// The lock file's hash, written after a good install: a different lock file means a stale install.
const STAMP = path.join(MODULES, '.bench-lock-sha256');

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const installedVersion = (name) => {
  try {
    return readJson(path.join(MODULES, ...name.split('/'), 'package.json')).version;
  } catch {
    return null;
  }
};

// What bench/peer/package.json pins: the gateway, and the @hono/node-server it must run on.
export function peerPins() {
  const pkg = readJson(path.join(PEER_DIR, 'package.json'));
  return { gateway: pkg.dependencies['@portkey-ai/gateway'], nodeServer: pkg.overrides['@hono/node-server'] };
}

// Installs bench/peer's lock file when needed; throws (with npm's last lines) if that fails or the
// versions installed are not the pinned ones. Resolves with the installed versions.
export async function ensurePeerInstalled() {
  const pins = peerPins();
  const want = createHash('sha256')
    .update(readFileSync(path.join(PEER_DIR, 'package-lock.json')))
    .digest('hex');
  const current = existsSync(ENTRY) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === want;
  if (!current) {
    log(`fig 13: installing the peer gateway, @portkey-ai/gateway ${pins.gateway} (npm ci --prefix bench/peer; its own lock file, not the service's)`);
    // No install scripts: the gateway needs none to run (its postinstall only applies patch-package).
    const args = ['ci', '--prefix', PEER_DIR, '--ignore-scripts', '--no-audit', '--no-fund'];
    try {
      await promisify(execFile)('npm', args, { timeout: 300_000, maxBuffer: 16 * 1024 * 1024, env: process.env });
    } catch (error) {
      const tail = `${error.stderr ?? ''}${error.stdout ?? ''}`.trim().split('\n').slice(-5).join(' / ');
      throw new Error(`npm ${args.join(' ')} failed: ${tail || error.message}`, { cause: error });
    }
    writeFileSync(STAMP, `${want}\n`);
  }
  const versions = { gateway: installedVersion('@portkey-ai/gateway'), nodeServer: installedVersion('@hono/node-server') };
  if (versions.gateway !== pins.gateway || versions.nodeServer !== pins.nodeServer) {
    throw new Error(`bench/peer has @portkey-ai/gateway ${versions.gateway} on @hono/node-server ${versions.nodeServer}, expected ${pins.gateway} on ${pins.nodeServer}`);
  }
  return { ...versions, installed: !current };
}

// The headers with which Portkey 1.15.2 relays a request to an OpenAI-compatible upstream at
// `upstreamUrl` (its base URL, /v1 included): provider `openai`, a custom host (127.0.0.1 is on its
// default list of trusted custom hosts), and the upstream's key as the bearer token (sent by the client).
export const portkeyHeaders = (upstreamUrl) => ({ 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstreamUrl });

// Starts `node build/start-server.js --port=<port> --headless` (the package's bin: one process, no
// log UI) and resolves once `GET /` answers. `url` is its OpenAI-compatible base URL; `client` the
// openai SDK pointed at it with the routing headers.
export async function startPeer(ctx, { port, upstreamUrl }) {
  const logFile = path.join(ctx.opts.work, 'portkey.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['-r', PRELOAD, ENTRY, `--port=${port}`, '--headless'], {
    cwd: PEER_DIR,
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root', NODE_ENV: 'production' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  track(child);
  const base = `http://127.0.0.1:${port}`;
  let exited = null;
  child.once('exit', (code, signal) => (exited = `${code ?? signal}`));
  for (const deadline = Date.now() + 30_000; ;) {
    if (exited !== null) throw new Error(`Portkey exited (${exited}) during start; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-1000)}`);
    try {
      if ((await fetch(`${base}/`)).status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`Portkey not answering within 30 s; see ${logFile}`);
    await sleep(100);
  }
  const headers = portkeyHeaders(upstreamUrl);
  const url = `${base}/v1`;
  return { child, pid: child.pid, base, url, headers, client: createDirectClient(url, headers), logFile };
}

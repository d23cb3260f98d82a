// Process bookkeeping: every child process is killed when the bench exits, however it exits, and
// the whole run has a hard time limit.
import net from 'node:net';

const children = new Set();
const t0 = Date.now();

export const elapsedSecs = () => Math.round((Date.now() - t0) / 1000);
export const log = (...args) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`, ...args);

export function track(child) {
  children.add(child);
  return child;
}

export function killChildren() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

// `onSignal` returns a promise of the clean-up to finish before exiting (the Redis DB release).
export function guardRun({ hardLimitMs, onSignal }) {
  process.on('exit', killChildren);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping`);
      killChildren();
      Promise.resolve()
        .then(onSignal)
        .catch(() => undefined)
        .finally(() => process.exit(130));
    });
  }
  const hardLimit = setTimeout(() => {
    console.error(`bench: hard time limit of ${hardLimitMs / 60000} min reached, aborting`);
    killChildren();
    process.exit(2);
  }, hardLimitMs);
  hardLimit.unref();
}

export async function stopProcess(child, signal = 'SIGTERM', timeoutMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return children.delete(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from './eventually';
import { baseTestEnv } from './test-env';

export interface AppProcess {
  url: string;
  child: ChildProcess;
  // Every stdout/stderr line the process wrote, for log assertions.
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

const ROOT = join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Runs src/main.ts as a real process (as `npm start` would run dist/main) and waits for health.
export async function startAppProcess(overrides: Record<string, string | undefined> = {}): Promise<AppProcess> {
  const port = await freePort();
  const env = { ...process.env, ...baseTestEnv({ PORT: String(port), ...overrides }) };
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.cjs', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (buffered + chunk).split('\n');
      buffered = lines.pop() ?? '';
      output.push(...lines);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`app process exited early:\n${output.join('\n')}`);
      return (await fetch(`${url}/api/v1/health`)).ok;
    },
    30_000,
    100,
  );
  return {
    url,
    child,
    output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

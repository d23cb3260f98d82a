// Minimal Chrome DevTools Protocol client for a child started with --inspect=127.0.0.1:<port>:
// used to force a full GC before reading RSS, so "at rest" means the same thing every time.
import WebSocket from 'ws';

export async function connectInspector(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let targets;
  for (;;) {
    try {
      targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      if (targets.length) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`inspector on port ${port} not reachable`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let seq = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), 30_000);
      pending.set(id, (msg) => (clearTimeout(timer), msg.error ? reject(new Error(msg.error.message)) : resolve(msg.result)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    collectGarbage: () => send('HeapProfiler.collectGarbage'),
    // Evaluates an expression in the child (returnByValue); for ad-hoc memory breakdowns.
    evaluate: async (expression) => (await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })).result.value,
    close: () => ws.close(),
  };
}

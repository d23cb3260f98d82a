// A pass-through TCP proxy in front of Redis that counts the commands a service instance sends, by
// name, by reading RESP: every command a client sends is one array of bulk strings, whether it
// comes alone or in a pipeline. Unlike INFO commandstats it sees only the instance pointed at it,
// not the other users of the same Redis server.
import { startTapProxy } from './tap-proxy.mjs';

export async function startRedisCounterProxy({ targetHost = '127.0.0.1', targetPort = 6379 } = {}) {
  let counts = new Map();
  const proxy = await startTapProxy({
    targetHost,
    targetPort,
    tap: () => ({ fromClient: commandReader((name) => counts.set(name, (counts.get(name) ?? 0) + 1)) }),
  });
  return {
    port: proxy.port,
    // The counts since the last reset, by upper-case command name.
    snapshot: () => Object.fromEntries(counts),
    reset: () => (counts = new Map()),
    close: proxy.close,
  };
}

// Incremental RESP reader for the client → server direction: `*<n>\r\n` then n `$<len>\r\n<bytes>\r\n`.
function commandReader(onCommand) {
  let buffer = Buffer.alloc(0);
  return (data) => {
    buffer = buffer.length ? Buffer.concat([buffer, data]) : data;
    let offset = 0;
    for (;;) {
      const parsed = parseCommand(buffer, offset);
      if (!parsed) break;
      offset = parsed.next;
      onCommand(parsed.name);
    }
    buffer = buffer.subarray(offset);
  };
}

function parseCommand(buf, start) {
  if (start >= buf.length) return null;
  if (buf[start] !== 0x2a) {
    // An inline command (never sent by ioredis): a line.
    const end = buf.indexOf('\r\n', start);
    return end < 0 ? null : { name: buf.toString('latin1', start, end).split(' ')[0].toUpperCase(), next: end + 2 };
  }
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd < 0) return null;
  const n = Number(buf.toString('latin1', start + 1, lineEnd));
  let offset = lineEnd + 2;
  let name = '';
  for (let i = 0; i < n; i++) {
    const end = buf.indexOf('\r\n', offset);
    if (end < 0) return null;
    const len = Number(buf.toString('latin1', offset + 1, end));
    const dataStart = end + 2;
    if (dataStart + len + 2 > buf.length) return null;
    if (i === 0) name = buf.toString('latin1', dataStart, dataStart + len).toUpperCase();
    offset = dataStart + len + 2;
  }
  return { name, next: offset };
}

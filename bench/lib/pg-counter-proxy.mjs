// A pass-through TCP proxy in front of PostgreSQL that counts what the service sends, by reading
// the wire protocol (v3): every executed statement ends with one CommandComplete ('C') message
// whose tag says what ran and how many rows it touched ("INSERT 0 1", "UPDATE 1", "SELECT 10",
// "BEGIN", "COMMIT"). This is exact, needs no server setting (pg_stat_statements is not loaded
// on this server, and pg_stat_database counters are flushed lazily, up to 10 s late), and sees
// only the connections of the service instance pointed at it.
import { startTapProxy } from './tap-proxy.mjs';

export async function startPgCounterProxy({ targetHost = '127.0.0.1', targetPort = 5432 } = {}) {
  const counters = freshCounters();
  const tap = () => {
    const conn = { inTx: false, writingSelect: false };
    return {
      fromClient: messageReader(true, (type, body) => onFrontend(conn, type, body)),
      fromServer: messageReader(false, (type, body) => onBackend(conn, type, body)),
    };
  };

  function onFrontend(conn, type, body) {
    let sql;
    if (type === 'P') {
      // Parse: statement name \0 query \0 ...
      const nameEnd = body.indexOf(0);
      sql = body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1));
    } else if (type === 'Q') {
      sql = body.toString('utf8', 0, body.length - 1);
    } else {
      return;
    }
    counters.parsedSql.push(sql);
    // A data-modifying CTE (WITH x AS (UPDATE ...) INSERT ...) reports only its top-level rows in
    // the CommandComplete tag: flag it, so that rows are reported as a lower bound.
    const isCteWrite = /^\s*WITH\b/i.test(sql) && /\bAS\s*\(\s*(UPDATE|INSERT|DELETE)\b/i.test(sql);
    if (isCteWrite) counters.cteWrites++;
    // A CTE whose writes sit in WITH clauses under a top-level SELECT completes with a SELECT tag;
    // it is still a write transaction of its own. (The pg driver runs one statement at a time per
    // connection, so the next CommandComplete on this connection is this statement's.)
    conn.writingSelect = isCteWrite;
  }

  function onBackend(conn, type, body) {
    if (type !== 'C') return;
    const tag = body.toString('utf8', 0, body.length - 1);
    const writingSelect = conn.writingSelect;
    conn.writingSelect = false;
    const [command] = tag.split(' ');
    const rows = Number(tag.split(' ').at(-1));
    counters.statements++;
    counters.byCommand[command] = (counters.byCommand[command] ?? 0) + 1;
    counters.tags.push(tag);
    if (command === 'BEGIN') {
      conn.inTx = true;
      conn.txWrites = 0;
    } else if (command === 'COMMIT' || command === 'ROLLBACK') {
      if (conn.txWrites > 0 && command === 'COMMIT') counters.writeTransactions++;
      counters.transactions++;
      conn.inTx = false;
    } else if (command === 'INSERT' || command === 'UPDATE' || command === 'DELETE') {
      counters.rowsWritten += Number.isFinite(rows) ? rows : 0;
      if (conn.inTx) conn.txWrites++;
      else {
        counters.transactions++;
        counters.writeTransactions++;
      }
    } else if (command === 'SELECT' && writingSelect) {
      if (conn.inTx) conn.txWrites++;
      else {
        counters.transactions++;
        counters.writeTransactions++;
      }
    } else if (!conn.inTx) {
      counters.transactions++; // an autocommitted read
    }
  }

  const proxy = await startTapProxy({ targetHost, targetPort, tap });
  return {
    port: proxy.port,
    // Returns what was counted since the last reset, and starts a new count.
    take() {
      const snapshot = { ...counters, byCommand: { ...counters.byCommand } };
      Object.assign(counters, freshCounters());
      return snapshot;
    },
    close: proxy.close,
  };
}

function freshCounters() {
  return { statements: 0, transactions: 0, writeTransactions: 0, rowsWritten: 0, cteWrites: 0, byCommand: {}, tags: [], parsedSql: [] };
}

// Splits a byte stream into protocol messages: 1-byte type + int32 length (self-inclusive).
// The client's first message (startup, or SSLRequest then startup) has no type byte.
function messageReader(isFrontend, onMessage) {
  let buffer = Buffer.alloc(0);
  let untyped = isFrontend ? 1 : 0;
  return (data) => {
    buffer = buffer.length ? Buffer.concat([buffer, data]) : data;
    for (;;) {
      if (untyped > 0) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        if (code === 80877103 || code === 80877104) untyped++; // SSL / GSS request: startup follows
        untyped--;
        buffer = buffer.subarray(length);
        continue;
      }
      if (buffer.length < 5) return;
      const length = buffer.readInt32BE(1);
      if (buffer.length < length + 1) return;
      onMessage(String.fromCharCode(buffer[0]), buffer.subarray(5, length + 1));
      buffer = buffer.subarray(length + 1);
    }
  };
}

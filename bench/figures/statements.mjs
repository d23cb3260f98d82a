// Figure 5: database statements per turn, counted on the wire by a proxy in front of PostgreSQL.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { answerText } from '../lib/answer.mjs';
import { connectSocket, postJson, streamViaSocket } from '../lib/clients.mjs';
import { freePort, log, stopProcess } from '../lib/children.mjs';
import { msg } from '../lib/load.mjs';
import { startPgCounterProxy } from '../lib/pg-counter-proxy.mjs';
import { setFakeProfile, startService } from '../lib/services.mjs';

// A PostgreSQL 15 backend flushes its table counters at most ~10 s after going idle.
const FLUSH_WAIT_MS = 11_500;

export async function figureStatements(ctx, user) {
  const { opts, fake } = ctx;
  const proxy = await startPgCounterProxy();
  const port = await freePort();
  const proxied = new URL(opts.databaseUrl);
  proxied.port = String(proxy.port);
  const service = await startService(ctx, 'service-statements', { port, fakeUrl: fake.url, env: { DATABASE_URL: proxied.toString() } });
  const out = {};
  // Exact rows: CommandComplete tags do not count the rows of data-modifying CTEs, so rows are also
  // taken from pg_stat_user_tables (n_tup_ins + n_tup_upd + n_tup_del of the bench database), after
  // a quiet wait before each reading; only this instance uses the database now.
  const statsClient = new pg.Client({ connectionString: opts.databaseUrl });
  await statsClient.connect();
  const rowsSoFar = async () => {
    await statsClient.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await statsClient.query('SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::int AS n FROM pg_stat_user_tables');
    return rows[0].n;
  };
  let rowsBefore;
  const countRows = async (counted) => {
    await sleep(FLUSH_WAIT_MS);
    const rowsNow = await rowsSoFar();
    counted.rowsExact = rowsNow - rowsBefore;
    rowsBefore = rowsNow;
    return counted;
  };
  try {
    const socket = await connectSocket(service.base, user.token);
    const streamTurn = async (label, chunks) => {
      await setFakeProfile(fake, { ttftMs: 5, chunks, cadenceMs: 0 });
      proxy.take();
      const res = await streamViaSocket(socket, { message: msg(label), expected: answerText(label, chunks) });
      await sleep(300); // nothing should follow chat:end, but give stragglers the chance to be counted
      const counted = proxy.take();
      if (!res.ok) throw new Error(`fig 5: ${label} failed: ${res.error}`);
      return countRows(counted);
    };
    await sleep(FLUSH_WAIT_MS); // the connect and the instance's start-up settle first
    rowsBefore = await rowsSoFar();
    out.streamNewConversation = await streamTurn('sNew', 100);
    out.stream10 = await streamTurn('s10', 10);
    out.stream100 = await streamTurn('s100', 100);
    out.stream1000 = await streamTurn('s1000', 1000);
    socket.close();
    await setFakeProfile(fake, { ttftMs: 5, chunks: 100, cadenceMs: 0, chatDelayMs: 5 });
    const auth = { authorization: `Bearer ${user.token}` };
    const restTurn = async (body) => {
      proxy.take();
      const res = await postJson(`${service.base}/api/v1/ai/chat`, body, auth);
      await sleep(300);
      return { res, counted: await countRows(proxy.take()) };
    };
    const { res: first, counted: restNew } = await restTurn({ message: msg('rNew') });
    out.restNewConversation = restNew;
    const { res: second, counted: restNext } = await restTurn({ message: msg('rNext'), conversationId: first.body?.conversationId });
    out.restTurn = restNext;
    if (!first.ok || !second.ok) throw new Error(`fig 5: REST turn failed: ${JSON.stringify(second.body ?? first.body)}`);
    for (const [k, v] of Object.entries(out)) {
      log(
        `fig 5 ${k}: ${v.statements} statements (${Object.entries(v.byCommand)
          .map(([c, n]) => `${c} ${n}`)
          .join(', ')}), ${v.rowsExact} rows written (tags: ${v.rowsWritten}), ${v.writeTransactions} write transactions`,
      );
    }
  } finally {
    await statsClient.end().catch(() => undefined);
    await stopProcess(service.child);
    await proxy.close();
  }
  ctx.results.figures.statements = out;
}

export function statementRows(F, add) {
  const S = F.statements;
  if (!S) return;
  const w = (x) => `${x.statements} statements, ${x.rowsExact} rows written, ${x.writeTransactions} write tx`;
  const within = (x) => {
    const over = [x.rowsExact > 5 ? `${x.rowsExact - 5} row(s) over` : '', x.writeTransactions > 2 ? `${x.writeTransactions - 2} transaction(s) over` : ''].filter(
      Boolean,
    );
    return over.length ? `❌ (${over.join(', ')})` : '✅';
  };
  const constant =
    S.stream10.rowsExact === S.stream1000.rowsExact &&
    S.stream10.statements === S.stream1000.statements &&
    S.stream10.writeTransactions === S.stream1000.writeTransactions;
  add('5 DB per streamed answer (100 chunks)', 'statements / rows / transactions', w(S.stream100), '≤ 5 rows, ≤ 2 tx', within(S.stream100));
  add('5 DB per streamed answer', '10 vs 1,000 chunks', `${w(S.stream10)} vs ${w(S.stream1000)}`, 'constant', constant ? '✅' : '❌');
  add('5 DB per streamed answer, new conversation', 'statements / rows / transactions', w(S.streamNewConversation), '≤ 5 rows, ≤ 2 tx', within(S.streamNewConversation));
  add('5 DB per REST turn', 'statements / rows / transactions', w(S.restTurn), '≤ 5 rows, ≤ 2 tx', within(S.restTurn));
  add('5 DB per REST turn, new conversation', 'statements / rows / transactions', w(S.restNewConversation), '≤ 5 rows, ≤ 2 tx', within(S.restNewConversation));
}

export function statementDetails(F) {
  if (!F.statements) return '';
  const lines = Object.entries(F.statements).map(([k, v]) => `- \`${k}\`: ${v.tags.join(' → ')}`);
  return `### Statements per turn, as seen on the wire (CommandComplete tags, in order)\n\n${lines.join('\n')}\n`;
}

// npm run bench [-- --quick] — what the service adds on top of the model, measured side by side
// with the same client talking to the upstream directly, in the same run, interleaved ABBA.
// See bench/README.md for the figures, the flags and the method; results go to bench/RESULTS.md.
// This file only orchestrates: options, database and users, child processes, the figures
// (bench/figures/), the report (bench/lib/report.mjs).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { figureBranching } from './figures/branching.mjs';
import { figureConcurrent } from './figures/concurrent.mjs';
import { figureDurable } from './figures/durable.mjs';
import { figureList } from './figures/list.mjs';
import { figureKnowledge } from './figures/knowledge.mjs';
import { figureIdle, figureSustained } from './figures/memory.mjs';
import { figureModels } from './figures/models.mjs';
import { figureModeration } from './figures/moderation.mjs';
import { figureOneClient } from './figures/one-client.mjs';
import { figurePeer } from './figures/peer.mjs';
import { profileService } from './figures/profiles.mjs';
import { figureRestConcurrency } from './figures/rest-c20.mjs';
import { figureStatements } from './figures/statements.mjs';
import { figureUsage } from './figures/usage.mjs';
import { buildIfStale, snapshotDist } from './lib/build.mjs';
import { elapsedSecs, freePort, guardRun, killChildren, log, stopProcess } from './lib/children.mjs';
import { connectSockets, createDirectClient } from './lib/clients.mjs';
import { BENCH, ROOT, parseOptions } from './lib/options.mjs';
import { cpuInfo, loadAvg, otherLoadSnapshot, rssMb } from './lib/proc.mjs';
import { buildRows, printTable, writeReport } from './lib/report.mjs';
import { startFake, startService } from './lib/services.mjs';
import { claimRedisDb, dropDatabase, releaseRedisDb, resetDatabase, seedListUser, seedUsers } from './lib/setup.mjs';

process.chdir(ROOT);
const opts = parseOptions();
if (opts.help) {
  console.log(readFileSync(path.join(BENCH, 'README.md'), 'utf8'));
  process.exit(0);
}
mkdirSync(opts.work, { recursive: true });

// Shared by the figures: options, results, the service build, the Redis DB, the fake upstream.
const ctx = { opts, results: { figures: {}, notes: [] }, dist: null, redisIndex: undefined, fake: null, direct: null };
const releaseRedis = () => (ctx.redisIndex === undefined ? Promise.resolve() : releaseRedisDb(opts.redisBase, ctx.redisIndex, opts.runId).catch(() => undefined));
guardRun({ hardLimitMs: opts.hardLimitMs, onSignal: releaseRedis });

const git = (...args) => {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};

async function main() {
  const otherLoad = new Set(otherLoadSnapshot());
  setInterval(() => otherLoadSnapshot().forEach((x) => otherLoad.add(x)), 5000).unref();
  const meta = {
    date: new Date().toISOString(),
    commit: git('rev-parse', '--short', 'HEAD').trim() || 'unknown',
    dirty: git('status', '--porcelain', '--', 'src', 'prisma')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
      .join(', '),
    cpu: cpuInfo(),
    loadStart: loadAvg(),
  };
  log(`bench (${opts.quick ? 'quick' : 'full'}), work dir ${opts.work}`);
  meta.build = buildIfStale(opts);
  log(`dist/: ${meta.build}`);
  ctx.dist = snapshotDist(opts.dist);

  ctx.redisIndex = await claimRedisDb(opts.redisBase, opts.redisIndexPreferred, opts.runId);
  meta.redisIndex = ctx.redisIndex;
  try {
    log(`database ${opts.databaseUrl} (re-created), Redis DB ${ctx.redisIndex}`);
    await resetDatabase(opts.adminUrl, opts.databaseUrl);
    const pgClient = new pg.Client({ connectionString: opts.databaseUrl });
    await pgClient.connect();
    meta.pgVersion = (await pgClient.query('SHOW server_version')).rows[0].server_version;
    await pgClient.end();
    meta.redisVersion = /redis_version:(\S+)/.exec(execFileSync('redis-cli', ['-u', opts.redisBase, 'info', 'server'], { encoding: 'utf8' }))?.[1] ?? '?';

    // Users: one per simultaneous socket, then the one-client user (extra[0]), the c=20 workers
    // (extra[1..20]), the statements user (extra[21]), figure 7's users (extra[22..24]), figure 8's
    // (extra[25] moderation off, extra[26] block), figure 9's (extra[27..28]), figure 12's statements
    // user (extra[29]), the sustained load's workers (extra[30..]), and figure 13's after them (one
    // client, 20 c=20 workers, 200 streams).
    const S = opts.sizes.sustained;
    const sustainedCount = S.streamWorkers + S.restWorkers + S.jobWorkers;
    const peerCount = 1 + 20 + 200;
    const secret = { secret: opts.jwtSecret, tokenLimit: opts.tokenLimit };
    const users = await seedUsers(opts.databaseUrl, opts.socketUsers + 30 + sustainedCount + peerCount, secret);
    const socketUsers = users.slice(0, opts.socketUsers);
    const extra = users.slice(opts.socketUsers);
    const ts = performance.now();
    const listUser = await seedListUser(opts.databaseUrl, { ...secret, conversations: 1000, perConversation: 100 });
    log(`seeded ${users.length} users, and one with 1,000 conversations / 100,000 messages (${((performance.now() - ts) / 1000).toFixed(1)} s)`);
    const sustainedUsers = extra.slice(30, 30 + sustainedCount);
    const peerUsers = extra.slice(30 + sustainedCount);
    const memoryUsers = {
      stream: sustainedUsers.slice(0, S.streamWorkers),
      rest: sustainedUsers.slice(S.streamWorkers, S.streamWorkers + S.restWorkers),
      jobs: sustainedUsers.slice(S.streamWorkers + S.restWorkers),
      list: listUser,
    };

    ctx.fake = await startFake({ stream: opts.stream, chatDelayMs: opts.chatDelayMs });
    ctx.direct = createDirectClient(ctx.fake.url);
    log(`fake upstream ${ctx.fake.url} (pid ${ctx.fake.pid})`);

    if (opts.serve) {
      // Ad-hoc probing: keep a seeded service + fake running until Ctrl-C (or the hard time limit).
      const service = await startService(ctx, 'service', {
        port: await freePort(),
        fakeUrl: ctx.fake.url,
        nodeArgs: opts.serviceNodeArgs,
        env: { BENCH_EXIT_ON_SIGUSR2: '1' },
      });
      const info = {
        base: service.base,
        pid: service.pid,
        fakeOrigin: ctx.fake.origin,
        fakePid: ctx.fake.pid,
        tokens: extra.map((u) => u.token),
        listToken: listUser.token,
        log: service.logFile,
      };
      writeFileSync(path.join(os.tmpdir(), 'ai-bench-serve.json'), JSON.stringify(info, null, 2));
      log(`serving; details in ${path.join(os.tmpdir(), 'ai-bench-serve.json')}; Ctrl-C to stop`);
      await new Promise(() => undefined);
    }
    if (opts.runs(6)) {
      await figureIdle(ctx, socketUsers);
      await figureSustained(ctx, memoryUsers);
    }
    if (['1', '2', '3', '4'].some(opts.runs)) {
      const service = await startService(ctx, 'service', { port: await freePort(), fakeUrl: ctx.fake.url });
      log(`service ${service.base} (pid ${service.pid})`);
      if (opts.runs(1)) await figureOneClient(ctx, service, extra[0]);
      if (opts.runs(2)) {
        const sockets = await connectSockets(
          service.base,
          socketUsers.map((u) => u.token),
        );
        await figureConcurrent(ctx, service, sockets);
        for (const s of sockets) s.close();
      }
      if (opts.runs(3)) await figureRestConcurrency(ctx, service, extra.slice(1, 21));
      if (opts.runs(4)) await figureList(ctx, service, listUser);
      await sleep(3000);
      ctx.results.afterLoadRssMb = rssMb(service.pid);
      await stopProcess(service.child);
    }
    if (opts.runs(5)) await figureStatements(ctx, extra[21]);
    if (opts.runs(7)) await figureModels(ctx, { providers: extra[22], fallback: extra[23], fitting: extra[24] });
    if (opts.runs(8)) await figureModeration(ctx, { off: extra[25], block: extra[26] });
    if (opts.runs(9)) await figureKnowledge(ctx, { search: extra[27], ingest: extra[28] });
    if (opts.runs(10)) await figureUsage(ctx);
    // Figure 11 takes its users from the socket users (200 for its streams, then 12 more).
    if (opts.runs(11)) await figureDurable(ctx, socketUsers);
    if (opts.runs(12)) await figureBranching(ctx, extra[29]);
    if (opts.runs(13)) await figurePeer(ctx, { oneClient: peerUsers[0], c20: peerUsers.slice(1, 21), streams: peerUsers.slice(21, 221) });
    if (opts.profile) await profileService(ctx, socketUsers, listUser, extra.slice(1, 21));

    meta.loadEnd = loadAvg();
    meta.otherLoad = [...otherLoad].join(', ');
    meta.durationSecs = elapsedSecs();
    if (meta.otherLoad)
      ctx.results.notes.push(
        `Other processes were busy on the machine during the run (${meta.otherLoad}); the ABBA interleaving spreads that over both sides, but absolute figures are noisier.`,
      );
    const rows = buildRows(ctx.results);
    writeReport(opts, ctx.results, rows, meta);
    console.log('');
    printTable(rows);
    console.log(`\nwritten: ${opts.out}\nlogs, profiles, results.json: ${opts.work}`);
    await stopProcess(ctx.fake.child);
    if (!opts.keepDb) await dropDatabase(opts.adminUrl, opts.databaseUrl);
  } finally {
    await releaseRedis();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`bench failed: ${error?.stack ?? error}`);
    killChildren();
    releaseRedis().finally(() => process.exit(1));
  },
);

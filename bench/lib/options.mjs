// The bench's command line (see bench/README.md) and the constants every figure shares.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH, '..');

export function parseOptions(argv = process.argv.slice(2)) {
  const flag = (name) => argv.includes(`--${name}`);
  const opt = (name, fallback) => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return fallback;
    return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
  };
  const quick = flag('quick');
  const only = opt('only', '')
    ? new Set(
        String(opt('only'))
          .split(',')
          .map((s) => s.trim()),
      )
    : null;
  const direct = opt('direct', 'sdk'); // sdk | sse
  if (!['sdk', 'sse'].includes(direct)) throw new Error('--direct must be sdk or sse');
  const mallocArenaMax = Number(opt('malloc-arena-max', 2));
  if (!Number.isInteger(mallocArenaMax) || mallocArenaMax < 0) throw new Error('--malloc-arena-max must be a whole number (0: no second series)');
  // `--levels 200`: figure 2 at these stream counts only (a focused before/after comparison).
  const levels = opt('levels') ? String(opt('levels')).split(',').map(Number) : [50, 200, 1000];
  if (levels.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--levels takes stream counts, e.g. 200 or 50,200');
  const sizes = quick
    ? {
        oneRounds: 2,
        onePerRound: 25,
        restRounds: 2,
        restPerRound: 40,
        levels,
        concRounds: 1,
        c20Rounds: 1,
        c20Secs: 3,
        listWarm: 1,
        listRounds: 2,
        listSecs: 4,
        idleSockets: 1000,
        modelRounds: 2,
        modelPerRound: 25,
        fitRounds: 3,
        fitPerRound: 60,
        moderationRounds: 2,
        moderationPerRound: 24,
        knowledgeQueries: 80,
        knowledgeSearches: 50,
        knowledgeIngestRuns: 1,
        knowledgeRounds: 2,
        knowledgePerRound: 20,
        branchingRequests: 200,
        peerRounds: 2,
        peerPerRound: 15,
        peerRestPerRound: 30,
        peerHoldPerRound: 10,
        peerC20Rounds: 1,
        peerC20Secs: 3,
        peerBurstRounds: 1,
      }
    : {
        oneRounds: 3,
        onePerRound: 80,
        restRounds: 3,
        restPerRound: 100,
        levels,
        concRounds: 2,
        c20Rounds: 2,
        c20Secs: 5,
        listWarm: 3,
        listRounds: 3,
        listSecs: 10,
        idleSockets: 1000,
        modelRounds: 3,
        modelPerRound: 50,
        fitRounds: 4,
        fitPerRound: 150,
        moderationRounds: 3,
        moderationPerRound: 60,
        knowledgeQueries: 150,
        knowledgeSearches: 100,
        knowledgeIngestRuns: 2,
        knowledgeRounds: 3,
        knowledgePerRound: 40,
        branchingRequests: 500,
        peerRounds: 3,
        peerPerRound: 25,
        peerRestPerRound: 50,
        peerHoldPerRound: 20,
        peerC20Rounds: 2,
        peerC20Secs: 4,
        peerBurstRounds: 2,
      };
  // Figure 6's sustained load: six rounds of a fixed mix, each ~10 s on 2 cores (about half in a
  // quick run). A stream worker needs 3 streams: one to the end, one stopped, one dropped.
  const scale = quick ? 0.5 : 1;
  sizes.sustained = {
    rounds: 6,
    streamWorkers: 30,
    streamsPerWorker: Math.max(3, Math.round(6 * scale)),
    restWorkers: 6,
    restPerWorker: Math.round(30 * scale),
    listWorkers: 4,
    listsPerWorker: Math.round(120 * scale),
    jobWorkers: 6,
    jobsPerWorker: Math.round(6 * scale),
  };
  const work = path.join(os.tmpdir(), `ai-bench-${Date.now()}`);
  return {
    help: flag('help'),
    quick,
    only,
    runs: (fig) => !only || only.has(String(fig)),
    direct,
    profile: flag('profile') || (!quick && !flag('no-profile') && !only) || (only?.has('profile') ?? false),
    stream: { ttftMs: Number(opt('ttft-ms', 50)), chunks: Number(opt('chunks', 100)), cadenceMs: Number(opt('cadence-ms', 20)) },
    oneClientCadenceMs: Number(opt('one-client-cadence-ms', 2)),
    chatDelayMs: Number(opt('chat-delay-ms', 50)),
    mallocArenaMax,
    sizes,
    socketUsers: Math.max(...sizes.levels, sizes.idleSockets),
    model: 'gpt-4o-mini',
    jwtSecret: 'bench-jwt-secret-0123456789abcdef',
    tokenLimit: 2_000_000_000,
    adminUrl: process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ai_service_bench',
    redisBase: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisIndexPreferred: Number(process.env.BENCH_REDIS_DB ?? 14),
    runId: `bench-${process.pid}-${Date.now()}`,
    work,
    // A full run rewrites bench/RESULTS.md; quick and partial runs write next to their logs.
    out: opt('out', !quick && !only ? path.join(BENCH, 'RESULTS.md') : path.join(work, 'RESULTS.md')),
    // Figure 9 seeds 20,000 vectors whatever the run, which takes a quick run past 10 min.
    hardLimitMs: (quick ? 20 : 40) * 60_000,
    dist: opt('dist', 'dist'),
    noBuild: flag('no-build'),
    keepDb: flag('keep-db'),
    serve: flag('serve'),
    serviceNodeArgs: opt('service-node-args', '').split(' ').filter(Boolean),
  };
}

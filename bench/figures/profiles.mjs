// CPU profiles of a separate service instance under the streaming, REST chat and list loads.
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectSockets, postJson } from '../lib/clients.mjs';
import { freePort, log, stopProcess } from '../lib/children.mjs';
import { autocannon, msg, runConcurrent } from '../lib/load.mjs';
import { setFakeProfile, startService } from '../lib/services.mjs';
import { summarizeProfile } from '../profile-summary.mjs';
import { listUrl } from './list.mjs';

export async function profileService(ctx, users, listUser, restUsers) {
  const { opts, fake } = ctx;
  const profiles = {};
  for (const load of ['streaming', 'rest', 'list']) {
    const dir = path.join(opts.work, `cpuprofile-${load}`);
    mkdirSync(dir, { recursive: true });
    const service = await startService(ctx, `service-profile-${load}`, {
      port: await freePort(),
      fakeUrl: fake.url,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
      // A process killed by a signal writes no profile: SIGUSR2 makes the preload exit cleanly.
      env: { BENCH_EXIT_ON_SIGUSR2: '1' },
    });
    const nowUs = () => Number(process.hrtime.bigint() / 1000n);
    let window;
    try {
      if (load === 'streaming') {
        await setFakeProfile(fake, opts.stream);
        const sockets = await connectSockets(
          service.base,
          users.slice(0, 200).map((u) => u.token),
        );
        await runConcurrent(ctx, 'B', { n: 200, sockets, service, tagPrefix: 'pw' }); // warm-up, not in the window
        window = { fromUs: nowUs() };
        for (let r = 0; r < 4; r++) {
          const run = await runConcurrent(ctx, 'B', { n: 200, sockets, service, tagPrefix: `p${r}` });
          log(`profile streaming run ${r + 1}: ${run.completed}/200 ok, ${Math.round(run.chunksPerSec)} chunks/s`);
        }
        window.toUs = nowUs();
        for (const s of sockets) s.close();
      } else if (load === 'rest') {
        // Figure 3's load: 20 users, each continuing its own conversation, back to back.
        await setFakeProfile(fake, { ...opts.stream, chatDelayMs: opts.chatDelayMs });
        const conversations = new Array(restUsers.length).fill(null);
        const drive = async (secs, tag) => {
          const deadline = performance.now() + secs * 1000;
          let done = 0;
          await Promise.all(
            restUsers.map(async (user, w) => {
              for (let i = 0; performance.now() < deadline; i++) {
                const res = await postJson(
                  `${service.base}/api/v1/ai/chat`,
                  { message: msg(`${tag}_${w}_${i}`), conversationId: conversations[w] },
                  { authorization: `Bearer ${user.token}` },
                );
                if (res.ok) ((conversations[w] = res.body.conversationId), done++);
              }
            }),
          );
          return done / secs;
        };
        await drive(2, 'prw'); // warm-up, not in the window
        window = { fromUs: nowUs() };
        const rps = await drive(opts.quick ? 4 : 8, 'pr');
        window.toUs = nowUs();
        log(`profile REST chat: ${Math.round(rps)} req/s (profiler on)`);
      } else {
        autocannon(listUrl(service.base), listUser.token, 2); // warm-up
        window = { fromUs: nowUs() };
        const res = autocannon(listUrl(service.base), listUser.token, opts.quick ? 4 : 8);
        window.toUs = nowUs();
        log(`profile list: ${Math.round(res.rps)} req/s (profiler on)`);
      }
    } finally {
      await stopProcess(service.child, 'SIGUSR2');
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) {
      ctx.results.notes.push(`no .cpuprofile written for the ${load} load`);
      continue;
    }
    profiles[load] = { file: path.join(dir, file), ...summarizeProfile(path.join(dir, file), 15, window) };
    log(`profile ${load}: ${profiles[load].file}`);
  }
  ctx.results.figures.profiles = profiles;
}

function profileSection(name, p) {
  if (!p) return '';
  return [
    `#### ${name} (main thread busy ${p.busyMs} ms of ${p.totalMs} ms under load; \`${p.file}\`)`,
    '',
    '| self time by package | % of busy |',
    '|---|---|',
    ...p.packages.slice(0, 10).map((x) => `| ${x.name} | ${x.pctOfBusy}% |`),
    '',
    '| hottest functions (self time) | % of busy |',
    '|---|---|',
    ...p.functions.slice(0, 15).map((x) => `| \`${x.name.replace(/\|/g, '\\|')}\` | ${x.pctOfBusy}% |`),
    '',
  ].join('\n');
}

export function profileDetails(F) {
  if (!F.profiles) return '';
  return `### CPU profile of the service (\`node --cpu-prof\`, separate instance)\n\n${profileSection('Streaming: 4 × 200 simultaneous streams', F.profiles.streaming)}\n${profileSection('REST chat: POST /ai/chat, 20 users back to back', F.profiles.rest)}\n${profileSection(`Conversation list: autocannon c=50`, F.profiles.list)}`;
}

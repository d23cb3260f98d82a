// Preloaded (-r) into the service and fake upstream started by the bench:
// - exit when the bench process dies (re-parented), so nothing outlives a killed run;
// - with BENCH_EXIT_ON_SIGUSR2=1, exit cleanly on SIGUSR2 so that --cpu-prof writes its profile
//   (a process killed by a signal writes none; this listener runs before Nest's own shutdown hook).
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
if (process.env.BENCH_EXIT_ON_SIGUSR2 === '1') process.on('SIGUSR2', () => process.exit(0));

/**
 * Preloaded (`--import`) into the benchmark's child processes: if the orchestrator dies without
 * cleaning up (SIGKILL, OOM), the child notices it was re-parented and exits, so no server is left
 * running. Costs one unref'd timer a second; the server's code is untouched.
 *
 * Plain JavaScript on purpose: worker threads inherit the process's `--import` flags but not tsx's
 * loader, so a `.ts` preload would stop any worker thread the server starts. (In a worker the
 * check is the same: it signals the whole process.)
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();

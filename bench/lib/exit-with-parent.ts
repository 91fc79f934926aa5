/**
 * Preloaded (`--import`) into the benchmark's child processes: if the orchestrator dies without
 * cleaning up (SIGKILL, OOM), the child notices it was re-parented and exits, so no server is left
 * running. Costs one unref'd timer a second; the server's code is untouched.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();

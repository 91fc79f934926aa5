import fs from 'node:fs';
import { DependencyError } from '../../errors.ts';

/**
 * Below this much free space on the data folder's filesystem, `/ready` reports the SQLite backend
 * as `storage full`: a commit needs room for its WAL frames, and a full disk fails it (SQLITE_FULL,
 * rolled back, `503 unavailable` to the client) until space returns.
 */
export const MIN_FREE_BYTES = 1024 * 1024;

/** Rejects with a `storage_full` DependencyError when the data folder's filesystem is (nearly) full. */
export async function checkFreeSpace(dataDir: string): Promise<void> {
  const stats = await fs.promises.statfs(dataDir);
  const free = stats.bavail * stats.bsize;
  if (free < MIN_FREE_BYTES) {
    throw new DependencyError('sqlite', `the data folder's filesystem has ${free} bytes free (below ${MIN_FREE_BYTES})`, { reason: 'storage_full' });
  }
}

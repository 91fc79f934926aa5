import type { Replay } from './api.ts';

/**
 * The bulk replays this browser started. The API has no endpoint that lists a customer's replays,
 * so the console remembers the ones it created (in localStorage, the newest first) with their last
 * seen state; the server stays the authority on each one (GET /demo/replays/{id}).
 */

const STORAGE_KEY = 'triggers.console.replays';
const KEEP = 20;

export function rememberedReplays(): Replay[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((r): r is Replay => typeof r?.replay_id === 'string' && typeof r?.created_at === 'string') : [];
  } catch {
    return [];
  }
}

/** Adds the replay, or updates the one with its id in place; returns the new list. */
export function rememberReplay(replay: Replay): Replay[] {
  const current = rememberedReplays();
  const index = current.findIndex((r) => r.replay_id === replay.replay_id);
  const next = index === -1 ? [replay, ...current].slice(0, KEEP) : current.map((r, i) => (i === index ? replay : r));
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  } catch {
    // Storage full or disabled: the list is only a convenience.
  }
  return next;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeOnly.format(date);
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", else the date. */
export function formatRelative(iso: string, now = Date.now()): string {
  const ms = now - new Date(iso).getTime();
  if (Number.isNaN(ms)) return iso;
  if (ms < 5_000) return 'just now';
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  return formatDateTime(iso);
}

export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

/** The same whole-word rule as the server's agent: for highlighting, the server decides. */
export function findKeywords(text: string, keywords: readonly string[]): string[] {
  if (keywords.length === 0) return [];
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}_-])(${keywords.join('|')})(?![\\p{L}\\p{N}_-])`, 'giu');
  const found = new Set<string>();
  for (const match of text.matchAll(pattern)) found.add(match[1].toLowerCase());
  return keywords.filter((k) => found.has(k));
}

export function eventTypeOf(payload: Record<string, unknown>): string | null {
  return typeof payload.event_type === 'string' ? payload.event_type : null;
}

/** datetime-local value ("2026-01-15T10:30") → RFC 3339 in UTC, or undefined. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** RFC 3339 → a datetime-local value in the browser's time zone, to the second; '' when not a time. */
export function isoToLocal(iso: string | null | undefined): string {
  const date = new Date(iso ?? '');
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

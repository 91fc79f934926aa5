import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorMessage, type EventStatus, type InboxFilters, type InboxPage as Page } from '../api.ts';
import { eventTypeOf, formatDateTime, formatRelative, localToIso } from '../format.ts';
import { Alert, Button, Card, EmptyState, EventStatusOptions, Field, JsonView, Link, PageHeader, Skeleton, StatusBadge, Toggle, cx, inputClass } from '../components/ui.tsx';

const RANGES = [
  { value: 'all', label: 'All time', ms: 0 },
  { value: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { value: '1h', label: 'Last hour', ms: 3600_000 },
  { value: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: 'custom', label: 'Custom…', ms: 0 },
] as const;
type Range = (typeof RANGES)[number]['value'];

const KNOWN_TYPES = ['document.escalated', 'ticket.escalated', 'metrics.sample'];
/** New events arriving within this window are shown with one read. */
const STREAM_DEBOUNCE_MS = 150;
/** How soon a page with pending events is read again. */
const PENDING_RECHECK_MS = 1000;

interface Filters {
  status: EventStatus | '';
  eventType: string;
  range: Range;
  from: string;
  to: string;
  limit: number;
}

const DEFAULT_FILTERS: Filters = { status: '', eventType: '', range: 'all', from: '', to: '', limit: 25 };

/** The API query for the filters; relative ranges are fixed at the moment of asking. */
function toQuery(filters: Filters): InboxFilters {
  const range = RANGES.find((r) => r.value === filters.range)!;
  return {
    status: filters.status || undefined,
    event_type: filters.eventType.trim() || undefined,
    start_time: filters.range === 'custom' ? localToIso(filters.from) : range.ms ? new Date(Date.now() - range.ms).toISOString() : undefined,
    end_time: filters.range === 'custom' ? localToIso(filters.to) : undefined,
    limit: filters.limit,
  };
}

/** The Bulk Replay form, filled with the inbox's current filters (a range without an end ends now). */
function replayLink(query: InboxFilters): string {
  const params = new URLSearchParams();
  for (const name of ['start_time', 'end_time', 'status', 'event_type'] as const) {
    const value = query[name];
    if (value) params.set(name, value);
  }
  const text = params.toString();
  return text ? `/replays?${text}` : '/replays';
}

export function InboxPage() {
  const [filters, setFilters] = useState<Filters>(DEFAULT_FILTERS);
  const [typeInput, setTypeInput] = useState('');
  const [query, setQuery] = useState<InboxFilters>(() => toQuery(DEFAULT_FILTERS));
  /** Cursors of the pages visited so far: [undefined, c1, c2, ...]; the last is the current page. */
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [autoRefresh, setAutoRefresh] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const request = useRef(0);

  const cursor = cursors[cursors.length - 1];

  const load = useCallback(
    async (quiet = false) => {
      const id = ++request.current;
      if (!quiet) setLoading(true);
      try {
        const result = await api.inbox({ ...query, cursor });
        if (id !== request.current) return;
        setPage(result);
        setError(null);
        setUpdatedAt(Date.now());
      } catch (thrown) {
        if (id !== request.current) return;
        setError(errorMessage(thrown));
        if (!quiet) setPage(null);
      } finally {
        if (id === request.current) setLoading(false);
      }
    },
    [query, cursor],
  );

  useEffect(() => {
    void load();
  }, [load]);

  // Live updates come from the event stream (GET /demo/events/stream, the demo customer's
  // /api/v1/events/stream), not from polling: each new event matching the filters re-reads the
  // page. Only the newest page follows it; older pages stay put while you read them.
  useEffect(() => {
    if (!autoRefresh || cursor !== undefined) return;
    const source = new EventSource(api.eventStreamUrl({ event_type: query.event_type, status: query.status }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    source.addEventListener('event', () => {
      // A burst of events costs one read.
      clearTimeout(timer);
      timer = setTimeout(() => void load(true), STREAM_DEBOUNCE_MS);
    });
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, [autoRefresh, cursor, query, load]);

  // The stream announces new events; a listed event's later status change (pending → delivered)
  // is not an event, so while one is still pending the page re-reads itself until it settles.
  const hasPending = page?.events.some((e) => e.status === 'pending') ?? false;
  useEffect(() => {
    if (!autoRefresh || !hasPending) return;
    const timer = setTimeout(() => void load(true), PENDING_RECHECK_MS);
    return () => clearTimeout(timer);
  }, [autoRefresh, hasPending, page, load]);

  // The event type box applies itself shortly after typing stops.
  useEffect(() => {
    if (typeInput === filters.eventType) return;
    const timer = setTimeout(() => apply({ ...filters, eventType: typeInput }), 400);
    return () => clearTimeout(timer);
  }, [typeInput, filters]);

  function apply(next: Filters) {
    setFilters(next);
    setQuery(toQuery(next));
    setCursors([undefined]);
  }

  function refresh() {
    // Relative ranges move with the clock: recompute them, and start from the newest page again.
    // A new query object reloads even when nothing else changed.
    setQuery(toQuery(filters));
    setCursors([undefined]);
  }

  const filtered = filters.status !== '' || filters.eventType.trim() !== '' || filters.range !== 'all';
  const types = [...new Set([...KNOWN_TYPES, ...(page?.events.map((e) => eventTypeOf(e.payload)).filter((t): t is string => t !== null) ?? [])])];

  return (
    <>
      <PageHeader
        title="Event Inbox"
        description="The demo customer’s events, newest first, as GET /api/v1/inbox returns them."
        actions={
          <>
            <Toggle checked={autoRefresh} onChange={setAutoRefresh} label="Live" />
            <Link href={replayLink(query)} className="rounded-lg border border-gray-300 bg-white px-4 py-2 text-sm font-medium text-gray-800 hover:bg-gray-50">
              Replay these…
            </Link>
            <Button onClick={refresh} busy={loading && page !== null}>
              Refresh
            </Button>
          </>
        }
      />

      <Card className="mb-6">
        <form
          className="grid grid-cols-2 gap-3 lg:grid-cols-4"
          aria-label="Filter events"
          onSubmit={(e) => {
            e.preventDefault();
            apply({ ...filters, eventType: typeInput });
          }}
        >
          <Field label="Status">
            {(props) => (
              <select {...props} name="status" className={inputClass} value={filters.status} onChange={(e) => apply({ ...filters, status: e.target.value as Filters['status'] })}>
                <EventStatusOptions anyLabel="All statuses" />
              </select>
            )}
          </Field>
          <Field label="Event type">
            {(props) => (
              <>
                <input
                  {...props}
                  name="event_type"
                  list="event-types"
                  className={inputClass}
                  value={typeInput}
                  onChange={(e) => setTypeInput(e.target.value)}
                  placeholder="Any type"
                  autoComplete="off"
                />
                <datalist id="event-types">
                  {types.map((t) => (
                    <option key={t} value={t} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <Field label="Time range">
            {(props) => (
              <select {...props} name="range" className={inputClass} value={filters.range} onChange={(e) => apply({ ...filters, range: e.target.value as Range })}>
                {RANGES.map((r) => (
                  <option key={r.value} value={r.value}>
                    {r.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Page size">
            {(props) => (
              <select {...props} name="limit" className={inputClass} value={filters.limit} onChange={(e) => apply({ ...filters, limit: Number(e.target.value) })}>
                {[10, 25, 50, 100].map((n) => (
                  <option key={n} value={n}>
                    {n} per page
                  </option>
                ))}
              </select>
            )}
          </Field>
          {filters.range === 'custom' && (
            <>
              <Field label="From (inclusive)">
                {(props) => <input {...props} type="datetime-local" step="1" name="from" className={inputClass} value={filters.from} onChange={(e) => apply({ ...filters, from: e.target.value })} />}
              </Field>
              <Field label="To (exclusive)">
                {(props) => <input {...props} type="datetime-local" step="1" name="to" className={inputClass} value={filters.to} onChange={(e) => apply({ ...filters, to: e.target.value })} />}
              </Field>
            </>
          )}
          <button type="submit" className="sr-only">
            Apply filters
          </button>
        </form>
      </Card>

      <div aria-live="polite" className="sr-only">
        {loading ? 'Loading events…' : page ? `${page.total} ${page.total === 1 ? 'event' : 'events'} on this page.` : ''}
      </div>

      {error && (
        <div className="mb-4">
          <Alert kind="error" title="The inbox could not be loaded">
            {error}
          </Alert>
        </div>
      )}

      {loading && page === null ? (
        <Skeleton rows={4} />
      ) : page && page.events.length === 0 ? (
        <EmptyState title={filtered ? 'No events match these filters' : 'No events yet'}>
          {filtered ? (
            <Button
              size="sm"
              className="mt-2"
              onClick={() => {
                setTypeInput('');
                apply(DEFAULT_FILTERS);
              }}
            >
              Clear filters
            </Button>
          ) : (
            <>
              Compose one in the <Link href="/composer">Event Composer</Link>.
            </>
          )}
        </EmptyState>
      ) : page ? (
        <>
          <ul className={cx('space-y-3', loading && 'opacity-60')} data-testid="inbox-list" aria-label="Events">
            {page.events.map((event) => {
              const open = expanded.has(event.event_id);
              const type = eventTypeOf(event.payload);
              return (
                <li key={event.event_id} data-event-id={event.event_id} data-status={event.status} className="min-w-0 rounded-xl border border-gray-200 bg-white p-3 shadow-sm sm:p-4">
                  <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-1">
                    <div className="flex min-w-0 flex-wrap items-center gap-2">
                      <StatusBadge status={event.status} />
                      <span className="truncate text-sm font-semibold text-gray-900">{type ?? <span className="font-normal text-gray-600">(no event_type)</span>}</span>
                    </div>
                    <time dateTime={event.timestamp} title={event.timestamp} className="shrink-0 text-xs text-gray-600">
                      {formatDateTime(event.timestamp)} · {formatRelative(event.timestamp)}
                    </time>
                  </div>
                  <p className="mt-1.5 break-all font-mono text-xs text-gray-700">{event.event_id}</p>
                  <div className="mt-2 flex flex-wrap items-center gap-x-4 gap-y-2">
                    <button
                      type="button"
                      aria-expanded={open}
                      aria-controls={`payload-${event.event_id}`}
                      className="inline-flex items-center gap-1 rounded text-sm font-medium text-brand-700 hover:underline"
                      onClick={() =>
                        setExpanded((current) => {
                          const next = new Set(current);
                          if (next.has(event.event_id)) next.delete(event.event_id);
                          else next.add(event.event_id);
                          return next;
                        })
                      }
                    >
                      <svg className={cx('h-3.5 w-3.5 transition-transform', open && 'rotate-90')} viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
                        <path d="M7 4l6 6-6 6z" />
                      </svg>
                      {open ? 'Hide payload' : 'Show payload'}
                    </button>
                    <Link href={`/inbox/${event.event_id}`} className="text-sm font-medium text-brand-700 hover:underline" aria-label={`Delivery details of event ${event.event_id}`}>
                      Delivery details
                    </Link>
                    <span className="text-xs text-gray-600">
                      {event.delivery_attempts} {event.delivery_attempts === 1 ? 'attempt' : 'attempts'}
                    </span>
                  </div>
                  {open && (
                    <div id={`payload-${event.event_id}`} className="mt-3">
                      <JsonView value={event.payload} />
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
          <nav className="mt-5 flex flex-wrap items-center justify-between gap-3" aria-label="Inbox pages">
            <p className="text-xs text-gray-600">
              Page {cursors.length} · {page.total} {page.total === 1 ? 'event' : 'events'}
              {updatedAt && <> · updated {new Date(updatedAt).toLocaleTimeString()}</>}
            </p>
            <div className="flex gap-2">
              <Button disabled={cursors.length === 1 || loading} onClick={() => setCursors((c) => c.slice(0, -1))}>
                ← Newer
              </Button>
              <Button disabled={!page.has_more || loading} onClick={() => page.cursor && setCursors((c) => [...c, page.cursor!])}>
                Older →
              </Button>
            </div>
          </nav>
        </>
      ) : null}
    </>
  );
}

import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, type EventStatus, type Replay, type ReplayFilter, type Subscription } from '../api.ts';
import { formatDateTime, formatRelative, isoToLocal, localToIso } from '../format.ts';
import { rememberedReplays, rememberReplay } from '../replay-history.ts';
import { navigate } from '../router.ts';
import { Alert, Button, Card, EmptyState, EventStatusOptions, Field, Link, PageHeader, StatusBadge, inputClass } from '../components/ui.tsx';

/** How often a running replay is read again. */
const POLL_MS = 1000;
/**
 * After the job ends its deliveries are still going out until the server says it has `settled`:
 * it is read every POLL_MS for this long after it ended, then every SLOW_POLL_MS (retries can take hours).
 */
const SETTLE_MS = 30_000;
const SLOW_POLL_MS = 10_000;

interface Form {
  from: string;
  to: string;
  status: EventStatus | '';
  eventType: string;
  workflowId: string;
}

/** The form as `/replays?start_time=…&end_time=…&status=…&event_type=…` (the inbox's "Replay these") fills it. */
function formFromQuery(search: string): Form {
  const query = new URLSearchParams(search);
  const hourAgo = new Date(Date.now() - 3600_000).toISOString();
  return {
    from: isoToLocal(query.get('start_time') ?? hourAgo),
    to: isoToLocal(query.get('end_time') ?? new Date(Date.now() + 60_000).toISOString()),
    status: (query.get('status') ?? '') as Form['status'],
    eventType: query.get('event_type') ?? '',
    workflowId: query.get('workflow_id') ?? '',
  };
}

/** The request's filter: empty optional fields are left out; the server judges the rest. */
function toFilter(form: Form): ReplayFilter {
  return {
    start_time: localToIso(form.from) ?? form.from,
    end_time: localToIso(form.to) ?? form.to,
    ...(form.status ? { status: form.status } : {}),
    ...(form.eventType.trim() ? { event_type: form.eventType.trim() } : {}),
    ...(form.workflowId ? { workflow_id: form.workflowId } : {}),
  };
}

export function ReplaysPage({ replayId }: { replayId: string | null }) {
  const [form, setForm] = useState<Form>(() => formFromQuery(location.search));
  const [subscriptions, setSubscriptions] = useState<Subscription[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [refusal, setRefusal] = useState<ApiError | null>(null);
  const [history, setHistory] = useState<Replay[]>(() => rememberedReplays());

  useEffect(() => {
    api.subscriptions().then(
      (page) => setSubscriptions(page.subscriptions),
      () => setSubscriptions([]),
    );
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setRefusal(null);
    try {
      const replay = await api.createReplay({ filter: toFilter(form) });
      setHistory(rememberReplay(replay));
      navigate(`/replays/${replay.replay_id}`);
    } catch (thrown) {
      setRefusal(thrown instanceof ApiError ? thrown : new ApiError(0, 'error', errorMessage(thrown)));
    } finally {
      setSubmitting(false);
    }
  }

  const set = <K extends keyof Form>(name: K, value: Form[K]) => setForm((current) => ({ ...current, [name]: value }));

  return (
    <>
      <PageHeader
        title="Bulk Replay"
        description="Match every stored event a filter selects again and deliver it to what matches now (POST /api/v1/replays as the demo customer). Paced so live traffic keeps flowing; cancellable."
      />

      <Card className="mb-6" title="New replay">
        <form className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label="Replay filter" onSubmit={submit} noValidate>
          <Field label="From (inclusive)">
            {(props) => <input {...props} type="datetime-local" step="1" name="start_time" className={inputClass} value={form.from} onChange={(e) => set('from', e.target.value)} />}
          </Field>
          <Field label="To (exclusive)">
            {(props) => <input {...props} type="datetime-local" step="1" name="end_time" className={inputClass} value={form.to} onChange={(e) => set('to', e.target.value)} />}
          </Field>
          <Field label="Status">
            {(props) => (
              <select {...props} name="status" className={inputClass} value={form.status} onChange={(e) => set('status', e.target.value as Form['status'])}>
                <EventStatusOptions anyLabel="Any status" />
              </select>
            )}
          </Field>
          <Field label="Event type">
            {(props) => <input {...props} name="event_type" className={inputClass} value={form.eventType} onChange={(e) => set('eventType', e.target.value)} placeholder="Any type" autoComplete="off" />}
          </Field>
          <Field label="Subscription" className="sm:col-span-2" hint="Deliver only to this one (when it matches the event now).">
            {(props) => (
              <select {...props} name="workflow_id" className={inputClass} value={form.workflowId} onChange={(e) => set('workflowId', e.target.value)}>
                <option value="">Every subscription that matches</option>
                {subscriptions.map((s) => (
                  <option key={s.workflow_id} value={s.workflow_id}>
                    {s.description || s.webhook_url} ({s.workflow_id.slice(0, 8)})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <div className="flex items-end sm:col-span-2 lg:col-span-3">
            <Button type="submit" variant="primary" busy={submitting}>
              Start replay
            </Button>
          </div>
        </form>
        {refusal && (
          <div className="mt-4" data-testid="replay-error">
            <Alert kind="error" title={`The replay was refused${refusal.status ? ` (${refusal.status} ${refusal.code})` : ''}`}>
              {refusal.detail}
            </Alert>
          </div>
        )}
      </Card>

      {replayId && <ReplayJob key={replayId} replayId={replayId} onSeen={(replay) => setHistory(rememberReplay(replay))} />}

      <Card title="Started from this browser" description="The API lists no replays; the console remembers the ones it started here.">
        {history.length === 0 ? (
          <EmptyState title="No replays yet" />
        ) : (
          <ul className="divide-y divide-gray-100" aria-label="Replays started here">
            {history.map((r) => (
              <li key={r.replay_id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                <span className="flex min-w-0 items-center gap-2">
                  <StatusBadge status={r.status} />
                  <Link href={`/replays/${r.replay_id}`} className="break-all font-mono text-xs text-brand-700 hover:underline">
                    {r.replay_id}
                  </Link>
                </span>
                <time dateTime={r.created_at} className="text-xs text-gray-600">
                  {formatRelative(r.created_at)}
                </time>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

const COUNTS = ['matched', 'enqueued', 'processed', 'unmatched', 'deliveries', 'delivered', 'failed'] as const;
const COUNT_HINTS: Record<(typeof COUNTS)[number], string> = {
  matched: 'Stored events the filter selected',
  enqueued: 'Of those, sent to be matched again',
  processed: 'Of those, matched again against the subscriptions',
  unmatched: 'Of those, matching no subscription now: no delivery',
  deliveries: 'Deliveries created, one per event and subscription',
  delivered: 'Deliveries that succeeded',
  failed: 'Deliveries that ended without success',
};

/** One replay, read again every second while it is `running`. */
function ReplayJob({ replayId, onSeen }: { replayId: string; onSeen: (replay: Replay) => void }) {
  const [replay, setReplay] = useState<Replay | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  // onSeen only stores: a new function on each render must not restart the polling.
  const seen = useRef(onSeen);
  seen.current = onSeen;

  const load = useCallback(async () => {
    try {
      const read = await api.replayJob(replayId);
      setReplay(read);
      setError(null);
      seen.current(read);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, [replayId]);

  useEffect(() => {
    void load();
  }, [load]);

  const running = replay?.status === 'running';
  const settling = replay !== null && !running && !replay.settled;
  useEffect(() => {
    if (!running && !settling) return;
    const timer = setTimeout(() => void load(), running || recentlyEnded(replay) ? POLL_MS : SLOW_POLL_MS);
    return () => clearTimeout(timer);
  }, [replay, running, settling, load]);

  async function cancel() {
    setCancelling(true);
    try {
      await api.cancelReplay(replayId);
      await load();
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setCancelling(false);
    }
  }

  return (
    <Card
      className="mb-6"
      title="Replay"
      description={<span className="break-all font-mono text-xs">{replayId}</span>}
      actions={
        <>
          {replay && !running && (
            <Button size="sm" onClick={() => void load()}>
              Refresh
            </Button>
          )}
          {running && (
            <Button size="sm" variant="danger" busy={cancelling} onClick={cancel}>
              Cancel replay
            </Button>
          )}
        </>
      }
    >
      {error && (
        <div className="mb-3">
          <Alert kind="error" title="The replay could not be read">
            {error}
          </Alert>
        </div>
      )}
      {replay && (
        <div data-testid="replay-job" data-status={replay.status}>
          <div className="flex flex-wrap items-center gap-2 text-sm text-gray-700">
            <StatusBadge status={replay.status} />
            <span>
              started {formatDateTime(replay.created_at)}
              {replay.finished_at && <> · finished {formatDateTime(replay.finished_at)}</>}
            </span>
          </div>
          <dl className="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-4" aria-live="polite">
            {COUNTS.map((name) => (
              <div key={name} className="rounded-lg bg-gray-50 px-3 py-2">
                <dt className="text-xs font-medium capitalize text-gray-600" title={COUNT_HINTS[name]}>
                  {name}
                </dt>
                <dd className="text-xl font-semibold tabular-nums text-gray-900" data-testid={`replay-${name}`}>
                  {replay.counts[name]}
                </dd>
              </div>
            ))}
          </dl>
          <p className="mt-3 text-xs text-gray-600">
            Filter: {formatDateTime(replay.filter.start_time)} to {formatDateTime(replay.filter.end_time)}
            {replay.filter.status && <> · status {replay.filter.status}</>}
            {replay.filter.event_type && <> · type {replay.filter.event_type}</>}
            {replay.filter.workflow_id && <> · subscription {replay.filter.workflow_id}</>}.{' '}
            {running
              ? 'Cancelling keeps what was already enqueued.'
              : settling
                ? 'The job has ended; its deliveries are still going out (retries included).'
                : 'Settled: every delivery it made has ended.'}
          </p>
        </div>
      )}
    </Card>
  );
}

function recentlyEnded(replay: Replay | null): boolean {
  return replay?.finished_at != null && Date.now() - new Date(replay.finished_at).getTime() < SETTLE_MS;
}

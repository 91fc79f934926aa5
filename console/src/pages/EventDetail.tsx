import { useCallback, useEffect, useState } from 'react';
import { api, errorMessage, type EventWithAttempts } from '../api.ts';
import { eventTypeOf, formatDateTime, formatRelative, shortId } from '../format.ts';
import { Alert, Button, Card, EmptyState, JsonView, Link, PageHeader, Skeleton, StatusBadge, cx } from '../components/ui.tsx';

const DOT: Record<string, string> = { succeeded: 'bg-emerald-500', failed: 'bg-red-500', retrying: 'bg-amber-500' };

export function EventDetailPage({ eventId }: { eventId: string }) {
  const [event, setEvent] = useState<EventWithAttempts | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [replaying, setReplaying] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setEvent(await api.event(eventId));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, [eventId]);

  useEffect(() => {
    setEvent(null);
    void load();
  }, [load]);

  // Follow the event while it is in flight (and a little after a replay).
  useEffect(() => {
    if (!event) return;
    const timer = setInterval(() => void load(), event.status === 'pending' ? 1000 : 4000);
    return () => clearInterval(timer);
  }, [event, load]);

  async function replay() {
    setReplaying(true);
    setNotice(null);
    try {
      await api.replay(eventId);
      setNotice('Replay accepted: the event is matched again and delivered to what matches now.');
      await load();
    } catch (thrown) {
      setNotice(null);
      setError(errorMessage(thrown));
    } finally {
      setReplaying(false);
    }
  }

  return (
    <>
      <p className="mb-3 text-sm">
        <Link href="/inbox">← Back to the inbox</Link>
      </p>
      <PageHeader
        title="Event"
        description={<span className="break-all font-mono text-xs sm:text-sm">{eventId}</span>}
        actions={
          event && (
            <Button onClick={replay} busy={replaying}>
              Replay
            </Button>
          )
        }
      />
      <div aria-live="polite">{notice && <div className="mb-4"><Alert kind="success">{notice}</Alert></div>}</div>
      {error && (
        <div className="mb-4">
          <Alert kind="error" title="The event could not be loaded">
            {error}
          </Alert>
        </div>
      )}
      {!event && !error && <Skeleton rows={3} />}
      {event && (
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
          <div className="space-y-6">
            <Card title="Summary">
              <dl className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-2 text-sm">
                <dt className="text-gray-600">Status</dt>
                <dd data-testid="event-status">
                  <StatusBadge status={event.status} />
                </dd>
                <dt className="text-gray-600">Type</dt>
                <dd className="font-medium break-words">{eventTypeOf(event.payload) ?? '—'}</dd>
                <dt className="text-gray-600">Accepted</dt>
                <dd>
                  <time dateTime={event.timestamp}>{formatDateTime(event.timestamp)}</time>
                  <span className="ml-1 text-xs text-gray-600">({formatRelative(event.timestamp)})</span>
                </dd>
                <dt className="text-gray-600">Attempts</dt>
                <dd>{event.delivery_attempts}</dd>
                <dt className="text-gray-600">Last attempt</dt>
                <dd>{event.last_delivery_timestamp ? formatDateTime(event.last_delivery_timestamp) : '—'}</dd>
              </dl>
            </Card>
            {event.deliveries.length > 0 && (
              <Card title="Deliveries" description="One per subscription (and per replay): attempts made and when the next is due.">
                <ul className="space-y-2 text-sm" data-testid="deliveries">
                  {event.deliveries.map((d, index) => (
                    <li key={`${d.workflow_id}-${d.created_at}-${index}`} className="flex flex-wrap items-center gap-x-2 gap-y-1" data-delivery-status={d.status}>
                      <span className="font-mono text-xs" title={d.workflow_id}>
                        {shortId(d.workflow_id)}
                      </span>
                      <StatusBadge status={d.status} />
                      <span className="text-xs text-gray-700" data-testid="delivery-attempts">
                        {d.attempts_made} {d.attempts_made === 1 ? 'attempt' : 'attempts'}
                      </span>
                      {d.next_attempt_at && (
                        <span className="text-xs text-amber-800" data-testid="delivery-next-attempt">
                          next attempt <time dateTime={d.next_attempt_at}>{formatDateTime(d.next_attempt_at)}</time>
                        </span>
                      )}
                      {d.failure_reason && <span className="w-full break-words text-xs text-red-700">{d.failure_reason}</span>}
                    </li>
                  ))}
                </ul>
              </Card>
            )}
            <Card title="Payload">
              <JsonView value={event.payload} />
            </Card>
          </div>
          <Card title="Delivery timeline" description="Every webhook attempt, oldest first.">
            {event.attempts.length === 0 ? (
              <EmptyState title={event.status === 'unmatched' ? 'No subscription matched this event' : event.status === 'pending' ? 'Waiting for the first attempt…' : 'No attempts'}>
                {event.status === 'unmatched' && (
                  <>
                    Create one on the <Link href="/subscriptions">Subscriptions</Link> page, then replay the event.
                  </>
                )}
              </EmptyState>
            ) : (
              <ol className="relative space-y-5 border-l-2 border-gray-200 pl-5" data-testid="timeline">
                {event.attempts.map((attempt, index) => (
                  <li key={`${attempt.workflow_id}-${attempt.attempt}-${index}`} className="relative" data-attempt-status={attempt.status}>
                    <span className={cx('absolute -left-[1.72rem] top-1 h-3 w-3 rounded-full ring-4 ring-white', DOT[attempt.status] ?? 'bg-gray-400')} aria-hidden="true" />
                    <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
                      <span className="text-sm font-semibold text-gray-900">Attempt {attempt.attempt}</span>
                      <StatusBadge status={attempt.status} />
                      {attempt.status_code !== null && <span className="rounded bg-gray-100 px-1.5 py-0.5 font-mono text-xs text-gray-800">HTTP {attempt.status_code}</span>}
                      <span className="text-xs text-gray-600">{Math.round(attempt.duration_ms)} ms</span>
                    </div>
                    <p className="mt-1 text-xs text-gray-600">
                      <time dateTime={attempt.timestamp}>{formatDateTime(attempt.timestamp)}</time> · subscription{' '}
                      <span className="font-mono" title={attempt.workflow_id}>
                        {shortId(attempt.workflow_id)}
                      </span>
                    </p>
                    {attempt.error && <p className="mt-1 break-words text-sm text-red-700">{attempt.error}</p>}
                  </li>
                ))}
              </ol>
            )}
          </Card>
        </div>
      )}
    </>
  );
}

import { useCallback, useEffect, useState } from 'react';
import { api, errorMessage, type DemoStatus, type OutboxMessage } from '../api.ts';
import { formatDateTime, formatRelative } from '../format.ts';
import { Alert, Button, Card, EmptyState, Link, PageHeader, Skeleton, cx } from '../components/ui.tsx';

export function OutboxPage({ status }: { status: DemoStatus | null }) {
  const [messages, setMessages] = useState<OutboxMessage[] | null>(null);
  const [provider, setProvider] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [open, setOpen] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const outbox = await api.outbox();
      setMessages(outbox.messages);
      setProvider(outbox.provider);
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <>
      <PageHeader
        title="Outbox"
        description="Notification emails sent by the demo agent."
        actions={
          <Button onClick={() => void load()} busy={loading && messages !== null}>
            Refresh
          </Button>
        }
      />
      {provider === 'resend' ? (
        <div className="mb-4">
          <Alert kind="info" title="Emails go through Resend">
            TRIGGERS_RESEND_API_KEY is set, so notifications are sent from {status?.mail.from ?? 'the configured sender'} and nothing is kept here.
          </Alert>
        </div>
      ) : (
        <div className="mb-4">
          <Alert kind="info">
            Nothing leaves this machine: emails are kept here. Set <code className="rounded bg-white/70 px-1">TRIGGERS_RESEND_API_KEY</code> to send them through Resend.
          </Alert>
        </div>
      )}
      {error && (
        <div className="mb-4">
          <Alert kind="error" title="The outbox could not be loaded">
            {error}
          </Alert>
        </div>
      )}
      {!messages && !error && <Skeleton rows={3} />}
      {messages && messages.length === 0 && (
        <EmptyState title="No emails yet">
          Trigger an event in the <Link href="/composer">Event Composer</Link>.
        </EmptyState>
      )}
      {messages && messages.length > 0 && (
        <Card>
          <ul className="divide-y divide-gray-100" data-testid="outbox-list" aria-label="Emails">
            {messages.map((m) => {
              const expanded = open === m.id;
              return (
                <li key={m.id} className="py-3 first:pt-0 last:pb-0">
                  <button
                    type="button"
                    className="flex w-full min-w-0 flex-wrap items-start justify-between gap-x-4 gap-y-1 rounded text-left"
                    aria-expanded={expanded}
                    aria-controls={`mail-${m.id}`}
                    onClick={() => setOpen(expanded ? null : m.id)}
                  >
                    <span className="min-w-0">
                      <span className="block break-words font-medium text-gray-900">{m.subject}</span>
                      <span className="block break-all text-xs text-gray-600">to {m.to}</span>
                    </span>
                    <time dateTime={m.created_at} title={formatDateTime(m.created_at)} className="shrink-0 text-xs text-gray-600">
                      {formatRelative(m.created_at)}
                    </time>
                  </button>
                  <div id={`mail-${m.id}`} hidden={!expanded} className={cx('mt-2 rounded-lg bg-gray-50 p-3')}>
                    <p className="text-xs text-gray-600">From {m.from}</p>
                    <pre className="mt-2 whitespace-pre-wrap break-words font-sans text-sm text-gray-800">{m.text}</pre>
                  </div>
                </li>
              );
            })}
          </ul>
        </Card>
      )}
    </>
  );
}

import type { Decision } from '../api.ts';
import { Link, cx } from './ui.tsx';

/** The agent's decision, and what happened because of it. Announced politely to screen readers by its container. */
export function DecisionResult({ decision }: { decision: Decision }) {
  return (
    <div
      data-testid="decision"
      data-triggered={decision.triggered}
      className={cx('rounded-xl border p-4', decision.triggered ? 'border-brand-200 bg-brand-50' : 'border-gray-200 bg-gray-50')}
    >
      <div className="flex items-start gap-3">
        <span
          aria-hidden="true"
          className={cx('mt-0.5 flex h-8 w-8 shrink-0 items-center justify-center rounded-full text-white', decision.triggered ? 'bg-brand-500' : 'bg-gray-400')}
        >
          {decision.triggered ? (
            <svg viewBox="0 0 24 24" className="h-4 w-4" fill="currentColor">
              <path d="M13.5 2 4 14h6.5l-1.5 8L20 10h-6.5z" />
            </svg>
          ) : (
            <svg viewBox="0 0 24 24" className="h-4 w-4" fill="none" stroke="currentColor" strokeWidth="3">
              <path d="M6 12h12" />
            </svg>
          )}
        </span>
        <div className="min-w-0 flex-1">
          <p className="font-semibold text-gray-900">{decision.triggered ? 'Triggered' : 'Not triggered'}</p>
          <p className="text-sm text-gray-700" data-testid="decision-reason">
            {decision.reason}
          </p>
          {decision.keywords.length > 0 && (
            <ul className="mt-2 flex flex-wrap gap-1.5" aria-label="Urgent keywords found">
              {decision.keywords.map((k) => (
                <li key={k} className="rounded-full bg-white px-2 py-0.5 text-xs font-medium text-brand-700 ring-1 ring-brand-200">
                  {k}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      {decision.event_id && (
        <dl className="mt-4 grid gap-x-4 gap-y-2 border-t border-brand-100 pt-3 text-sm sm:grid-cols-[auto_1fr]">
          <dt className="text-gray-600">Event</dt>
          <dd className="min-w-0">
            <Link href={`/inbox/${decision.event_id}`} className="break-all font-mono text-xs font-medium text-brand-700 underline-offset-2 hover:underline">
              <span data-testid="decision-event-id">{decision.event_id}</span>
            </Link>
            <span className="ml-2 text-xs text-gray-600">accepted via POST /api/v1/events</span>
          </dd>
          {decision.email && (
            <>
              <dt className="text-gray-600">Email</dt>
              <dd className="min-w-0 text-gray-800">
                {decision.email.status === 'sent' ? (
                  <>
                    Sent to <span className="break-all font-medium">{decision.email.to}</span> via {decision.email.provider}
                    {decision.email.provider === 'outbox' && (
                      <>
                        {' '}
                        — <Link href="/outbox">see the outbox</Link>
                      </>
                    )}
                  </>
                ) : (
                  <span className={decision.email.status === 'failed' ? 'text-red-700' : 'text-gray-700'}>
                    {decision.email.status === 'failed' ? 'Not sent: ' : 'Skipped: '}
                    {decision.email.detail}
                  </span>
                )}
              </dd>
            </>
          )}
        </dl>
      )}
    </div>
  );
}
